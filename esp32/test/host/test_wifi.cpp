// Defect 3: Wi-Fi was begun once; some disconnect reasons were never retried.
#include <string>

#include "fakes.h"
#include "mini_test.h"
#include "wifi_link.h"

TEST(wifi_begins_at_once_and_retries_every_reason_with_backoff) {
  dc::WifiLink link;
  fake::Random lo;  // lowest jitter: half of each ceiling
  uint64_t now = 0;
  CHECK(link.dueBegin(now, lo));  // the first begin is immediate
  CHECK(!link.dueBegin(now, lo));
  // Reasons the driver's auto-reconnect does not always retry (auth, handshake, no AP) are
  // retried here like any other, at 0.5, 1, 2, 4 … s.
  const uint8_t reasons[] = {201, 15, 2, 201, 204, 8};
  const uint64_t gaps[] = {500, 1000, 2000, 4000, 8000, 15000};
  for (size_t i = 0; i < 6; ++i) {
    link.onDisconnected(now, reasons[i]);
    CHECK(!link.dueBegin(now, lo));  // not at once: the delay is drawn
    now += gaps[i] - 1;
    CHECK(!link.dueBegin(now, lo));
    now += 1;
    CHECK(link.dueBegin(now, lo));
  }
  CHECK_EQ(link.begins(), 7u);
  CHECK_EQ(link.disconnects(), 6u);
  CHECK_EQ(link.count(201), 2u);
  CHECK_EQ(link.count(15), 1u);
  CHECK_EQ(link.count(99), 0u);
}

TEST(wifi_an_attempt_with_no_ip_times_out_and_counts) {
  dc::WifiLink link;
  fake::Random lo;
  CHECK(link.dueBegin(0, lo));
  CHECK(!link.dueBegin(19'999, lo));
  CHECK(!link.dueBegin(20'000, lo));  // timed out: counted, retry after the backoff
  CHECK_EQ(link.count(dc::WifiLink::kTimeoutReason), 1u);
  CHECK(link.dueBegin(20'500, lo));
  link.onConnected(21'000);
  CHECK(link.connected());
  CHECK(!link.dueBegin(90'000, lo));  // connected: nothing to do, no timeout
}

TEST(wifi_backoff_starts_over_after_a_stable_link) {
  dc::WifiLink link;
  fake::Random lo;
  uint64_t now = 0;
  link.dueBegin(now, lo);
  for (int i = 0; i < 5; ++i) {  // drops at once: growing
    link.onDisconnected(now, 200);
    link.dueBegin(now, lo);
    now = link.nextBeginMs();
    CHECK(link.dueBegin(now, lo));
  }
  link.onConnected(now);
  now += 30'000;
  link.onDisconnected(now, 8);
  link.dueBegin(now, lo);
  CHECK_EQ(link.nextBeginMs() - now, 500u);
}

TEST(wifi_a_second_disconnect_event_while_waiting_does_not_reschedule) {
  dc::WifiLink link;
  fake::Random lo;
  link.dueBegin(0, lo);
  link.onDisconnected(100, 201);
  link.dueBegin(100, lo);
  uint64_t next = link.nextBeginMs();
  link.onDisconnected(200, 201);  // the driver may report the same loss twice
  link.dueBegin(200, lo);
  CHECK_EQ(link.nextBeginMs(), next);
  CHECK_EQ(link.count(201), 2u);
}

TEST(wifi_stats_in_the_report_shape) {
  dc::WifiLink link;
  for (int r = 1; r <= 14; ++r) link.onDisconnected(0, static_cast<uint8_t>(r));  // 12 slots + 2 others
  link.onDisconnected(0, 1);
  char buf[256];
  dc::JsonWriter w(buf, sizeof buf);
  link.writeStats(w);
  CHECK_EQ(w.finish(),
           R"({"wifi_disconnects":15,"wifi_reasons":{"1":2,"2":1,"3":1,"4":1,"5":1,"6":1,"7":1,"8":1,"9":1,"10":1,"11":1,"12":1,"other":2}})");
}

namespace {
struct WifiNet : fake::Net {
  dc::WifiLink link;
  void writeLinkStats(dc::JsonWriter& w) override { link.writeStats(w); }
};
}  // namespace

TEST(wifi_reasons_are_counted_in_the_machine_report) {
  fake::Clock clock;
  fake::Output output;
  fake::Sensor sensor;
  fake::Mqtt mqtt;
  WifiNet net;
  fake::Random random;
  net.link.onDisconnected(0, 201);
  net.link.onDisconnected(0, 201);
  net.link.onDisconnected(0, 15);
  dc::Dispenser d(fake::World::base(), dc::DispenserPorts{clock, output, sensor, mqtt, net, random, nullptr});
  d.begin();
  d.tick();
  const std::string& report = mqtt.published.at(0).payload;
  CHECK(report.find(R"("wifi_disconnects":3,"wifi_reasons":{"201":2,"15":1})") != std::string::npos);
  dc::JsonObject o;
  CHECK(dc::parseObject(report.data(), report.size(), o) == dc::JsonError::None);
  CHECK(o.find("wifi_reasons")->type == dc::JsonType::Object);
}
