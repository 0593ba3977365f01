#include <string>

#include "fakes.h"
#include "mini_test.h"

using fake::field;

namespace {

// A control for machine 1; `until` seconds after `ts` on the hub's clock.
std::string control(const char* status, long long session, double ts, double until, long long exchange) {
  char buf[256];
  std::string s = session > 0 ? std::to_string(session) : "null";
  std::string u = until > 0 ? std::to_string(until) : "null";
  std::snprintf(buf, sizeof buf,
                R"({"machine_id":1,"session_id":%s,"status":"%s","scheduled_until":%s,"timestamp":%.2f,)"
                R"("exchange_id":%lld,"origin_node":"machine_handler","destination_node":"machine_001"})",
                s.c_str(), status, u.c_str(), ts, exchange);
  return buf;
}

constexpr double kT0 = 1673432480.01;  // the hub's wall clock: unrelated to the machine's monotonic clock

}  // namespace

TEST(dispenser_connects_with_clean_session_keepalive_10_and_reports) {
  fake::World w;
  w.output.on = true;  // whatever the pin did during reset
  w.start();
  CHECK(!w.output.on);
  CHECK_EQ(w.mqtt.connects.size(), 1u);
  const dc::ConnectOptions& o = w.mqtt.connects[0];
  CHECK_EQ(w.mqtt.connect_ids[0], "machine_001");
  CHECK_EQ(o.username, "machine_001");
  CHECK_EQ(o.password, "s3cret");
  CHECK_EQ(o.keepalive_s, 10);
  CHECK(o.clean_session);
  CHECK_EQ(w.mqtt.subscribed.size(), 1u);
  CHECK_EQ(w.mqtt.subscribed[0], "external/machine/1");
  auto reports = w.mqtt.reports();
  CHECK_EQ(reports.size(), 1u);
  CHECK_EQ(w.mqtt.published[0].topic, "external/handler");
  const dc::JsonObject& r = reports[0];
  CHECK_EQ(field(r, "machine_id").number, 1.0);
  CHECK_EQ(field(r, "status").str, "idle");
  CHECK_EQ(field(r, "ball_level").str, "full");
  CHECK(field(r, "scheduled_until").type == dc::JsonType::Null);
  CHECK(field(r, "session_id").type == dc::JsonType::Null);
  CHECK_EQ(field(r, "firmware").str, "1.0.0");
  CHECK_EQ(field(r, "ip_address").str, "192.168.4.23");
  CHECK_EQ(field(r, "rssi").number, -61.0);
  CHECK_EQ(field(r, "uptime_s").number, 0.0);
  CHECK_EQ(field(r, "origin_node").str, "machine_001");
}

TEST(dispenser_active_control_turns_on_and_confirms) {
  fake::World w;
  w.start();
  w.mqtt.published.clear();
  w.send(control("active", 54321, kT0, kT0 + 3600, 77));
  CHECK(w.output.on);
  CHECK(w.dispenser.status() == dc::Status::Active);
  auto confs = w.mqtt.confirmations();
  CHECK_EQ(confs.size(), 1u);
  const dc::JsonObject& c = confs[0];
  CHECK(field(c, "success").boolean);
  CHECK_EQ(field(c, "exchange_id").number, 77.0);
  CHECK_EQ(field(c, "session_id").number, 54321.0);
  CHECK_EQ(field(c, "status").str, "active");
  CHECK_EQ(field(c, "origin_node").str, "machine_001");
  CHECK_EQ(field(c, "destination_node").str, "machine_handler");
  CHECK(c.find("message") == nullptr);
  // Confirmation first, then the report of the change.
  CHECK_EQ(w.mqtt.published.size(), 2u);
  CHECK(w.mqtt.published[0].payload.find("\"success\"") != std::string::npos);
  auto reports = w.mqtt.reports();
  CHECK_EQ(field(reports[0], "status").str, "active");
  CHECK_EQ(field(reports[0], "session_id").number, 54321.0);
  CHECK_EQ(field(reports[0], "scheduled_until").number, kT0 + 3600);
}

TEST(dispenser_deadline_from_until_minus_timestamp_on_the_monotonic_clock) {
  fake::World w;
  w.clock.ms = 5'000'000;  // the machine's uptime has nothing to do with the hub's epoch
  w.start();
  w.send(control("active", 9, kT0, kT0 + 60, 1));
  CHECK_EQ(w.dispenser.deadlineMs(), 5'000'000u + 60'000u);
  w.advance(59'999);
  CHECK(w.output.on);
  w.advance(1);
  CHECK(!w.output.on);
  CHECK(w.dispenser.status() == dc::Status::Idle);
  CHECK(!w.dispenser.hasDeadline());
  auto reports = w.mqtt.reports();
  CHECK_EQ(field(reports.back(), "status").str, "idle");
  CHECK(field(reports.back(), "session_id").type == dc::JsonType::Null);
  CHECK_EQ(w.log.lines.back().find("\"event\":\"output\"") != std::string::npos, true);
  CHECK(w.log.lines.back().find("\"reason\":\"deadline\"") != std::string::npos);
}

TEST(dispenser_reverts_at_the_deadline_with_no_hub) {
  fake::World w;
  w.start();
  w.send(control("active", 9, kT0, kT0 + 90.5, 1));
  w.advance(10'000);
  w.mqtt.result = dc::ConnectResult::Failed;  // the hub is gone and stays gone
  w.dispenser.onDisconnected();
  w.run(80'400);
  CHECK(w.output.on);
  w.run(200);
  CHECK(!w.output.on);
  CHECK_EQ(w.output.writes.size(), 3u);  // off at boot, on, off
  CHECK(w.mqtt.connects.size() > 1);     // kept trying meanwhile
  // When the hub is back, the report on connect says idle.
  w.mqtt.result = dc::ConnectResult::Connected;
  w.mqtt.published.clear();
  w.run(70'000);
  CHECK(w.dispenser.link() == dc::LinkState::Connected);
  CHECK_EQ(field(w.mqtt.reports().at(0), "status").str, "idle");
}

TEST(dispenser_idle_control_turns_off_and_drops_the_deadline) {
  fake::World w;
  w.start();
  w.send(control("active", 9, kT0, kT0 + 600, 1));
  w.advance(1000);
  w.send(control("idle", 0, kT0 + 1, 0, 2));
  CHECK(!w.output.on);
  CHECK(!w.dispenser.hasDeadline());
  auto confs = w.mqtt.confirmations();
  CHECK_EQ(field(confs.back(), "status").str, "idle");
  CHECK(field(confs.back(), "session_id").type == dc::JsonType::Null);
  CHECK_EQ(field(confs.back(), "exchange_id").number, 2.0);
}

TEST(dispenser_maintenance_is_off_and_reverts_to_idle) {
  fake::World w;
  w.start();
  w.send(control("active", 9, kT0, kT0 + 600, 1));
  w.send(control("maintenance", 0, kT0, kT0 + 120, 2));
  CHECK(!w.output.on);
  CHECK(w.dispenser.status() == dc::Status::Maintenance);
  w.advance(120'000);
  CHECK(w.dispenser.status() == dc::Status::Idle);
  CHECK_EQ(field(w.mqtt.reports().back(), "status").str, "idle");
}

TEST(dispenser_active_without_until_turns_off_at_its_own_maximum) {
  // The hub (or an admin override) sends "active" with no end: the device bounds it.
  fake::World w;
  w.start();
  w.send(control("active", 0, kT0, 0, 1));
  CHECK(w.output.on);
  CHECK(w.dispenser.hasDeadline());
  CHECK_EQ(w.dispenser.deadlineMs(), w.clock.ms + uint64_t{dc::kMaxOnSeconds} * 1000u);
  CHECK_EQ(w.dispenser.failsafe().deadlineMs(), w.dispenser.deadlineMs());
  CHECK(field(w.mqtt.confirmations().at(0), "success").boolean);
  w.mqtt.result = dc::ConnectResult::Failed;  // and the hub dies
  w.dispenser.onDisconnected();
  w.clock.ms += uint64_t{dc::kMaxOnSeconds} * 1000u - 1000;
  w.dispenser.tick();
  CHECK(w.output.on);
  w.advance(1000);
  CHECK(!w.output.on);
  CHECK(w.dispenser.status() == dc::Status::Idle);
  CHECK(w.log.last("output").find("\"reason\":\"max_on\"") != std::string::npos);
}

TEST(dispenser_resent_control_is_confirmed_without_rearming) {
  fake::World w;
  w.start();
  std::string c = control("active", 9, kT0, kT0 + 60, 5);
  w.send(c);
  w.advance(30'000);
  w.send(c);  // the hub retries when our Confirmation was lost
  CHECK_EQ(w.mqtt.confirmations().size(), 2u);
  CHECK_EQ(field(w.mqtt.confirmations().back(), "exchange_id").number, 5.0);
  w.advance(30'000);
  CHECK(!w.output.on);  // still the first deadline
  w.send(c);            // a late retry never restarts an ended session
  CHECK(!w.output.on);
  CHECK_EQ(w.mqtt.confirmations().size(), 3u);
}

TEST(dispenser_a_new_exchange_with_the_same_target_rearms_from_its_timestamp) {
  fake::World w;
  w.start();
  w.send(control("active", 9, kT0, kT0 + 60, 5));
  w.advance(20'000);
  // After a reconnect the hub sends the state again: new exchange, 20 s later, same end.
  w.send(control("active", 9, kT0 + 20, kT0 + 60, 6));
  CHECK_EQ(w.dispenser.deadlineMs(), w.clock.ms + 40'000);
}

TEST(dispenser_a_control_already_past_its_end_never_pulses_the_output) {
  fake::World w;
  w.start();
  w.mqtt.published.clear();
  const double ends[] = {kT0 - 5, kT0, kT0 + 0.0004};
  long long exchange = 3;
  for (double end : ends) w.send(control("active", 9, kT0, end, exchange++));
  CHECK_EQ(w.output.writes.size(), 1u);  // only the off at boot
  CHECK(w.dispenser.status() == dc::Status::Idle);
  CHECK(w.mqtt.reports().empty());  // no active-then-idle report pair
  auto confs = w.mqtt.confirmations();
  CHECK_EQ(confs.size(), 3u);
  for (const dc::JsonObject& c : confs) {
    CHECK(!field(c, "success").boolean);
    CHECK_EQ(field(c, "message").str, "scheduled_until: must be after timestamp (the run would be 0 s or less)");
  }
  // Maintenance already over is idle at once: no maintenance-then-idle blip either.
  w.mqtt.published.clear();
  w.send(control("active", 9, kT0, kT0 + 60, 10));
  w.mqtt.published.clear();
  w.send(control("maintenance", 0, kT0, kT0 - 1, 11));
  CHECK(!w.output.on);
  CHECK(w.dispenser.status() == dc::Status::Idle);
  CHECK_EQ(w.mqtt.reports().size(), 1u);
  CHECK_EQ(field(w.mqtt.reports().at(0), "status").str, "idle");
}

TEST(dispenser_refuses_malformed_controls_without_changing_state) {
  fake::World w;
  w.start();
  w.send(control("active", 9, kT0, kT0 + 600, 1));
  w.mqtt.published.clear();
  const std::string bad[] = {
      "{not json",
      R"({"machine_id":1,"session_id":9,"status":"off","scheduled_until":null,"timestamp":1,"exchange_id":8})",
      R"({"machine_id":7,"session_id":9,"status":"idle","scheduled_until":null,"timestamp":1,"exchange_id":9})",
      R"({"machine_id":1,"session_id":"9","status":"idle","scheduled_until":null,"timestamp":1,"exchange_id":10})",
      R"({"machine_id":1,"session_id":9,"status":"idle","scheduled_until":null,"exchange_id":11})",
  };
  const char* messages[] = {
      "(payload): payload is not valid JSON",
      "status: must be one of idle, active, maintenance",
      "machine_id: 7 is not this machine (1)",
      "session_id: must be a positive integer or null",
      "timestamp: is required",
  };
  for (const std::string& b : bad) w.send(b);
  CHECK(w.output.on);
  CHECK(w.dispenser.status() == dc::Status::Active);
  auto confs = w.mqtt.confirmations();
  CHECK_EQ(confs.size(), 5u);
  CHECK(w.mqtt.reports().empty());
  for (size_t i = 0; i < confs.size() && i < 5; ++i) {
    CHECK(!field(confs[i], "success").boolean);
    CHECK_EQ(field(confs[i], "message").str, messages[i]);
    CHECK_EQ(field(confs[i], "origin_node").str, "machine_001");
    CHECK_EQ(field(confs[i], "destination_node").str, "machine_handler");
  }
  CHECK(confs[0].find("exchange_id") == nullptr);  // nothing to echo from bad JSON
  CHECK_EQ(field(confs[1], "exchange_id").number, 8.0);
  CHECK_EQ(field(confs[4], "exchange_id").number, 11.0);
  CHECK_EQ(field(confs[4], "status").str, "idle");
  CHECK_EQ(w.dispenser.refusedCount(), 5u);
}

TEST(dispenser_never_answers_the_hubs_own_replies) {
  fake::World w;
  w.start();
  w.mqtt.published.clear();
  w.send(R"({"success":false,"message":"uptime_s: bad","machine_id":1,"origin_node":"machine_handler"})");
  CHECK(w.mqtt.published.empty());
  w.dispenser.onMessage("external/machine/2", "{}", 2);  // not our topic: ignored
  CHECK(w.mqtt.published.empty());
}

TEST(dispenser_report_request_reports_now) {
  fake::World w;
  w.start();
  w.mqtt.published.clear();
  w.advance(3000);
  w.send(R"({"request_type":"machine","request_id":4,"machine_id":1,"origin_node":"machine_handler"})");
  auto reports = w.mqtt.reports();
  CHECK_EQ(reports.size(), 1u);
  CHECK_EQ(field(reports[0], "uptime_s").number, 3.0);
}

TEST(dispenser_heartbeat_every_30_s) {
  fake::World w;
  w.start();
  w.run(95'000);
  CHECK_EQ(w.mqtt.reports().size(), 4u);  // on connect + at 30, 60, 90 s
  w.send(R"({"request_type":"machine"})");  // an extra report restarts the 30 s
  size_t n = w.mqtt.reports().size();
  w.run(29'000);
  CHECK_EQ(w.mqtt.reports().size(), n);
  w.run(1'100);
  CHECK_EQ(w.mqtt.reports().size(), n + 1);
}

TEST(dispenser_reports_level_changes_once_not_noise) {
  fake::World w;
  w.sensor.percent = 36;
  w.start();
  CHECK_EQ(field(w.mqtt.reports().at(0), "ball_level").str, "medium");
  w.mqtt.published.clear();
  const float noise[] = {34.5f, 35.5f, 33.2f, 36.8f};
  for (int i = 0; i < 25; ++i) {  // one sample a second, less than a heartbeat period
    w.sensor.percent = noise[i % 4];
    w.advance(1000);
  }
  CHECK(w.mqtt.published.empty());
  w.sensor.percent = 20;
  w.advance(1000);
  CHECK_EQ(w.mqtt.reports().size(), 1u);
  CHECK_EQ(field(w.mqtt.reports().at(0), "ball_level").str, "low");
  w.sensor.valid = false;  // a failed reading keeps the last level
  w.sensor.percent = 0;
  w.run(5000);
  CHECK(w.dispenser.ballLevel() == dc::BallLevel::Low);
}

TEST(dispenser_reconnects_with_growing_jittered_backoff) {
  fake::World w;
  w.random.values = {0};  // lowest jitter: half of each ceiling
  w.mqtt.result = dc::ConnectResult::Failed;
  w.start();
  CHECK_EQ(w.mqtt.connects.size(), 1u);
  const uint64_t gaps[] = {500, 1000, 2000, 4000, 8000, 15000, 15000};
  for (uint64_t gap : gaps) {
    size_t before = w.mqtt.connects.size();
    w.advance(gap - 1);
    CHECK_EQ(w.mqtt.connects.size(), before);
    w.advance(1);
    CHECK_EQ(w.mqtt.connects.size(), before + 1);
  }
}

TEST(dispenser_backoff_resets_only_after_a_stable_connection) {
  fake::World w;
  w.random.values = {UINT32_MAX - 1};
  w.start();
  for (int i = 0; i < 4; ++i) {  // connects, drops at once: no reset
    w.dispenser.onDisconnected();
    w.advance(w.dispenser.nextAttemptMs() - w.clock.ms);
  }
  w.dispenser.onDisconnected();
  uint64_t gap = w.dispenser.nextAttemptMs() - w.clock.ms;
  CHECK(gap > 8000 && gap <= 16000);
  w.advance(gap);
  w.advance(30'000);  // held 30 s
  w.dispenser.onDisconnected();
  gap = w.dispenser.nextAttemptMs() - w.clock.ms;
  CHECK(gap >= 500 && gap <= 1000);
}

TEST(dispenser_pending_connect_times_out) {
  fake::World w;
  w.mqtt.result = dc::ConnectResult::Pending;
  w.start();
  CHECK(w.dispenser.link() == dc::LinkState::Connecting);
  w.advance(14'999);
  CHECK(w.dispenser.link() == dc::LinkState::Connecting);
  w.advance(1);
  CHECK(w.dispenser.link() == dc::LinkState::Waiting);
  w.advance(w.dispenser.nextAttemptMs() - w.clock.ms);
  CHECK_EQ(w.mqtt.connects.size(), 2u);
  w.dispenser.onConnected();  // CONNACK arrives
  CHECK(w.dispenser.link() == dc::LinkState::Connected);
  CHECK_EQ(w.mqtt.reports().size(), 1u);
}

TEST(dispenser_blocking_connect_never_straddles_the_deadline) {
  dc::DispenserConfig config = fake::World::base();
  config.connect_block_ms = 5000;
  config.username = "machine_1";
  fake::World w(config);
  w.random.values = {0};
  w.start();
  CHECK_EQ(w.mqtt.connects[0].username, "machine_1");
  CHECK_EQ(w.mqtt.connect_ids[0], "machine_001");
  w.send(control("active", 9, kT0, kT0 + 10, 1));
  w.mqtt.result = dc::ConnectResult::Failed;
  w.advance(3000);
  w.dispenser.onDisconnected();  // next attempt due at +500 ms, 6.5 s before the deadline
  w.advance(500);
  CHECK_EQ(w.mqtt.connects.size(), 2u);
  w.advance(1000);               // next due now; deadline 5.5 s away: still fine
  CHECK_EQ(w.mqtt.connects.size(), 3u);
  w.advance(2000);               // due again; the deadline is 3.5 s away: wait for it
  CHECK_EQ(w.mqtt.connects.size(), 3u);
  CHECK(w.output.on);
  w.advance(3500);               // deadline: off first, then the attempt
  CHECK(!w.output.on);
  CHECK_EQ(w.mqtt.connects.size(), 4u);
}

// Defect 1: a control of 10 days is refused naming the field, and changes nothing.
TEST(dispenser_refuses_a_run_over_its_maximum_and_keeps_its_state) {
  fake::World w;
  w.start();
  w.send(control("active", 9, kT0, kT0 + 600, 1));
  uint64_t deadline = w.dispenser.deadlineMs();
  w.mqtt.published.clear();
  w.send(control("active", 10, kT0, kT0 + 10 * 24 * 3600, 2));
  w.send(R"({"machine_id":1,"session_id":10,"status":"active","scheduled_until":1e300,"timestamp":1673432480.01,"exchange_id":3})");
  CHECK(w.output.on);
  CHECK_EQ(w.dispenser.deadlineMs(), deadline);  // still session 9's own end
  CHECK_EQ(w.output.writes.size(), 2u);          // off at boot, on
  auto confs = w.mqtt.confirmations();
  CHECK_EQ(confs.size(), 2u);
  for (const dc::JsonObject& c : confs) {
    CHECK(!field(c, "success").boolean);
    CHECK_EQ(field(c, "message").str, "scheduled_until: run is over this machine's maximum of 14400 s");
  }
  CHECK_EQ(field(confs[0], "exchange_id").number, 2.0);
  CHECK(w.mqtt.reports().empty());
}

TEST(dispenser_honours_a_smaller_configured_maximum) {
  dc::DispenserConfig config = fake::World::base();
  config.max_on_s = 8;
  fake::World w(config);
  w.start();
  w.send(control("active", 9, kT0, kT0 + 9, 1));
  CHECK(!w.output.on);
  CHECK_EQ(field(w.mqtt.confirmations().at(0), "message").str, "scheduled_until: run is over this machine's maximum of 8 s");
  w.send(control("active", 9, kT0, kT0 + 8, 2));
  CHECK(w.output.on);
  w.send(control("active", 0, kT0, 0, 3));  // no end: 8 s from now
  CHECK_EQ(w.dispenser.deadlineMs(), w.clock.ms + 8000);
  w.run(7900);
  CHECK(w.output.on);
  w.run(100);
  CHECK(!w.output.on);
}

// Defect 2: a hung loop (network call blocking tick()) must not keep the output on.
TEST(dispenser_failsafe_poll_switches_off_at_the_deadline_while_the_loop_is_stuck) {
  fake::World w;
  w.start();
  w.send(control("active", 9, kT0, kT0 + 60, 1));
  CHECK_EQ(w.dispenser.failsafe().deadlineMs(), w.clock.ms + 60'000);
  // The loop is stuck: no tick(); only the independent deadline task polls.
  w.clock.ms += 59'999;
  CHECK(!w.dispenser.failsafePoll());
  CHECK(w.output.on);
  w.clock.ms += 1;
  CHECK(w.dispenser.failsafePoll());
  CHECK(!w.output.on);
  CHECK(!w.dispenser.failsafePoll());  // once
  CHECK_EQ(w.output.writes.size(), 3u);  // boot off, on, off
  // When the loop runs again it reverts its state and reports idle; the pin is not touched again.
  w.mqtt.published.clear();
  w.clock.ms += 5'000;
  w.dispenser.tick();
  CHECK(w.dispenser.status() == dc::Status::Idle);
  CHECK_EQ(w.output.writes.size(), 3u);
  CHECK_EQ(field(w.mqtt.reports().at(0), "status").str, "idle");
  CHECK(w.log.last("output").find("\"reason\":\"deadline\"") != std::string::npos);
}

TEST(dispenser_safe_off_forces_the_output_off_for_the_watchdog_reset_path) {
  fake::World w;
  w.start();
  w.send(control("active", 9, kT0, kT0 + 600, 1));
  CHECK(w.output.on);
  w.dispenser.safeOff();  // what the task watchdog's ISR calls before the chip resets
  CHECK(!w.output.on);
  CHECK(!w.dispenser.failsafe().isOn());
  w.advance(100);  // if the chip does not reset, the loop agrees: idle
  CHECK(w.dispenser.status() == dc::Status::Idle);
  CHECK(!w.output.on);
}

// Defect 6: a resend after the deadline was confirmed "active" while the machine was idle.
TEST(dispenser_a_resend_after_the_deadline_is_not_confirmed_active) {
  fake::World w;
  w.start();
  std::string c = control("active", 9, kT0, kT0 + 60, 5);
  w.send(c);
  w.advance(60'000);
  CHECK(!w.output.on);
  w.mqtt.published.clear();
  w.send(c);  // a late duplicate of the same exchange
  CHECK(!w.output.on);
  auto confs = w.mqtt.confirmations();
  CHECK_EQ(confs.size(), 1u);
  CHECK(!field(confs.at(0), "success").boolean);
  CHECK_EQ(field(confs.at(0), "message").str, "scheduled_until: this control's run has already ended");
  CHECK_EQ(field(confs.at(0), "exchange_id").number, 5.0);
  // A new exchange for a later run is applied as usual.
  w.send(control("active", 9, kT0 + 60, kT0 + 120, 6));
  CHECK(w.output.on);
}

// Defect 8: while the output is on, a lost hub is retried at least every 5 s.
TEST(dispenser_reconnect_delay_is_capped_while_the_output_is_on) {
  fake::World w;
  w.random.values = {UINT32_MAX - 1};  // highest jitter: the full ceiling
  w.start();
  w.mqtt.result = dc::ConnectResult::Failed;
  for (int i = 0; i < 6; ++i) {  // the backoff grows while idle (connects that drop at once)
    w.dispenser.onDisconnected();
    w.advance(w.dispenser.nextAttemptMs() - w.clock.ms);
  }
  w.mqtt.result = dc::ConnectResult::Connected;
  w.advance(w.dispenser.nextAttemptMs() - w.clock.ms);
  w.send(control("active", 9, kT0, kT0 + 3600, 1));
  w.mqtt.result = dc::ConnectResult::Failed;  // hub restarts
  w.dispenser.onDisconnected();
  for (int i = 0; i < 10; ++i) {
    uint64_t gap = w.dispenser.nextAttemptMs() - w.clock.ms;
    CHECK(gap <= 5000 && gap >= 2500);
    w.advance(gap);
  }
  w.send(control("idle", 0, kT0 + 60, 0, 2));  // (cannot arrive offline; models the output going off)
  w.dispenser.tick();
  w.advance(w.dispenser.nextAttemptMs() - w.clock.ms);
  CHECK(w.dispenser.nextAttemptMs() - w.clock.ms > 5000);  // off: back to the long delay
}
