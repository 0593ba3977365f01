#include "dispenser.h"

#include <cstdio>
#include <cstring>

namespace dc {

namespace {
constexpr size_t kPayloadMax = 512;
}

Dispenser::Dispenser(const DispenserConfig& config, const DispenserPorts& ports)
    : config_(config), ports_(ports), level_(config.levels), backoff_(config.backoff) {
  machineTopic(config.machine_id, topic_, sizeof topic_);
  machineNodeName(config.machine_id, node_, sizeof node_);
}

void Dispenser::begin() {
  boot_ms_ = ports_.clock.nowMs();
  ports_.output.set(false);  // whatever the pin did during reset, a fresh boot dispenses nothing
  sampleLevel(boot_ms_);
  link_ = LinkState::Waiting;
  next_attempt_ms_ = boot_ms_;
}

void Dispenser::tick() {
  uint64_t now = ports_.clock.nowMs();
  // DESIGN §4: scheduled_until is a fail-safe; revert even with no hub.
  if (has_deadline_ && now >= deadline_ms_) revert();
  if (now - last_sample_ms_ >= config_.sensor_period_ms) sampleLevel(now);
  switch (link_) {
    case LinkState::Waiting:
      if (now >= next_attempt_ms_ && !(has_deadline_ && deadline_ms_ - now < config_.connect_block_ms)) tryConnect(now);
      break;
    case LinkState::Connecting:
      if (now - connect_started_ms_ >= config_.connect_timeout_ms) {
        emit(eventLine("connect_timeout"));
        scheduleRetry(now);
      }
      break;
    case LinkState::Connected:
      if (now - last_report_ms_ >= config_.heartbeat_ms) publishReport();
      break;
  }
}

void Dispenser::tryConnect(uint64_t now) {
  // Clean session: the hub never relies on queued commands for a dispenser (DESIGN §4);
  // it sends the state the schedule requires on every connect.
  const char* user = config_.username != nullptr ? config_.username : node_;
  ConnectOptions options{node_, user, config_.password, config_.keepalive_s, true};
  connect_started_ms_ = now;
  link_ = LinkState::Connecting;
  emit(eventLine("connecting"));
  switch (ports_.mqtt.connect(options)) {
    case ConnectResult::Connected: onConnected(); break;
    case ConnectResult::Pending: break;
    case ConnectResult::Failed: scheduleRetry(now); break;
  }
}

void Dispenser::scheduleRetry(uint64_t now) {
  link_ = LinkState::Waiting;
  uint32_t delay = backoff_.next(ports_.random);
  next_attempt_ms_ = now + delay;
  emit(eventLine("link_down").integer("retry_in_ms", delay));
}

void Dispenser::onConnected() {
  if (link_ == LinkState::Connected) return;
  uint64_t now = ports_.clock.nowMs();
  link_ = LinkState::Connected;
  connected_at_ms_ = now;
  emit(eventLine("connected"));
  if (!ports_.mqtt.subscribe(topic_)) emit(eventLine("subscribe_failed"));
  publishReport();  // report on connect
}

void Dispenser::onDisconnected() {
  if (link_ == LinkState::Waiting) return;
  uint64_t now = ports_.clock.nowMs();
  // A link that held for a while starts the backoff over; one that drops at once keeps growing it.
  if (link_ == LinkState::Connected && now - connected_at_ms_ >= config_.stable_ms) backoff_.reset();
  scheduleRetry(now);
}

void Dispenser::onMessage(const char* topic, const char* payload, size_t len) {
  if (std::strcmp(topic, topic_) != 0) return;  // we subscribe to our own topic only
  decodeInbound(payload, len, config_.machine_id, scratch_, inbound_);
  switch (inbound_.kind) {
    case InboundKind::Control: applyControl(inbound_.control); break;
    case InboundKind::ReportRequest: publishReport(); break;
    case InboundKind::HubReply: emit(eventLine("hub_reply")); break;
    case InboundKind::Invalid:
      ++refused_;
      emit(eventLine("refused").str("message", inbound_.message));
      confirm(false, inbound_, inbound_.message);
      break;
  }
}

void Dispenser::applyControl(const Control& c) {
  bool changed = false;
  bool resend = has_last_ && last_.exchange_id == c.exchange_id && last_.status == c.status &&
                last_.has_session == c.has_session && last_.session_id == c.session_id &&
                last_.has_until == c.has_until && last_.scheduled_until == c.scheduled_until;
  if (!resend) {
    has_last_ = true;
    last_ = c;
    bool hold = c.status != Status::Idle;
    changed = setState(c.status, hold && c.has_session, c.session_id, hold && c.has_until, c.scheduled_until, "control");
    if (hold && c.has_until) {
      // Measured from the hub's own timestamp, so the machine needs no wall clock (DESIGN §4).
      double remaining_ms = (c.scheduled_until - c.timestamp) * 1000.0;
      uint64_t now = ports_.clock.nowMs();
      has_deadline_ = true;
      deadline_ms_ = remaining_ms <= 0 ? now : now + static_cast<uint64_t>(remaining_ms);
    }
  }
  confirm(true, inbound_, nullptr);  // confirm first, then report the new state
  if (changed) publishReport();
  // An already-past deadline reverts now (after confirming what was applied).
  if (has_deadline_ && ports_.clock.nowMs() >= deadline_ms_) revert();
}

void Dispenser::revert() {
  if (setState(Status::Idle, false, 0, false, 0, "deadline")) publishReport();
}

bool Dispenser::setState(Status status, bool has_session, int64_t session, bool has_until, double until, const char* reason) {
  bool was_on = outputOn();
  int64_t logged_session = was_on ? session_id_ : (has_session ? session : 0);  // the session switched on or off
  bool changed = status != status_ || has_session != has_session_ || (has_session && session != session_id_) ||
                 has_until != has_until_ || (has_until && until != scheduled_until_);
  status_ = status;
  has_session_ = has_session;
  session_id_ = has_session ? session : 0;
  has_until_ = has_until;
  scheduled_until_ = has_until ? until : 0;
  has_deadline_ = false;
  if (outputOn() != was_on) {
    ports_.output.set(outputOn());
    emit(eventLine("output").boolean("on", outputOn()).str("reason", reason).integer("session_id", logged_session));
  }
  return changed;
}

void Dispenser::confirm(bool success, const Inbound& in, const char* message) {
  char buf[kPayloadMax];
  JsonWriter w(buf, sizeof buf);
  w.boolean("success", success);
  if (in.has_exchange_id) w.integer("exchange_id", in.exchange_id);
  if (in.has_session_id) w.integer("session_id", in.session_id);
  else if (success) w.null("session_id");
  if (in.has_status) w.str("status", statusName(in.status));
  if (message != nullptr) w.str("message", message);
  w.integer("machine_id", config_.machine_id).str("origin_node", node_).str("destination_node", kNodeMachineHandler);
  const char* text = w.finish();
  if (text != nullptr && link_ == LinkState::Connected) ports_.mqtt.publish(kTopicHandler, text);
}

void Dispenser::publishReport() {
  if (link_ != LinkState::Connected) return;  // the report on connect carries the state
  uint64_t now = ports_.clock.nowMs();
  char buf[kPayloadMax];
  JsonWriter w(buf, sizeof buf);
  w.integer("machine_id", config_.machine_id).str("status", statusName(status_)).str("ball_level", ballLevelName(level_.level()));
  if (has_until_) w.number("scheduled_until", scheduled_until_);
  else w.null("scheduled_until");
  if (has_session_) w.integer("session_id", session_id_);
  else w.null("session_id");
  w.str("firmware", config_.firmware);
  char ip[40];
  if (ports_.net.ipAddress(ip, sizeof ip)) w.str("ip_address", ip);
  int rssi = 0;
  if (ports_.net.rssi(rssi)) w.integer("rssi", rssi);
  w.integer("uptime_s", static_cast<int64_t>((now - boot_ms_) / 1000));
  w.str("origin_node", node_).str("destination_node", kNodeMachineHandler);
  const char* text = w.finish();
  last_report_ms_ = now;  // a failed publish waits for the next heartbeat, not a busy retry
  if (text != nullptr) ports_.mqtt.publish(kTopicHandler, text);
}

void Dispenser::sampleLevel(uint64_t now) {
  last_sample_ms_ = now;
  float pct = 0;
  if (!ports_.sensor.readPercent(pct)) return;  // keep the last level on a bad reading
  BallLevel before = level_.level();
  bool first = !level_.known();
  BallLevel after = level_.update(pct);
  if (!first && after != before) publishReport();  // report on change
}

JsonWriter& Dispenser::eventLine(const char* name) {
  event_ = JsonWriter(event_buf_, sizeof event_buf_);
  return event_.str("event", name).integer("machine_id", config_.machine_id).integer("mono_ms", static_cast<int64_t>(ports_.clock.nowMs()));
}

void Dispenser::emit(JsonWriter& w) {
  const char* text = w.finish();
  if (ports_.log != nullptr && text != nullptr) ports_.log->line(text);
}

}  // namespace dc
