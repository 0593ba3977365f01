#include "dispenser.h"

#include <cstdio>
#include <cstring>

namespace dc {

namespace {
constexpr size_t kPayloadMax = 512;
// Bound for a maintenance run (no output, so no MAX_ON_SECONDS): keeps now + run far from overflow.
constexpr uint64_t kMaxHoldMs = 400ull * 24 * 3600 * 1000;

// Seconds (any double) to milliseconds in [0, cap_ms], without the undefined behaviour of
// casting a huge, negative or NaN double to an integer. A positive run is at least 1 ms.
uint64_t runMs(double seconds, uint64_t cap_ms) {
  if (!(seconds > 0)) return 0;
  double ms = seconds * 1000.0;
  if (!(ms < static_cast<double>(cap_ms))) return cap_ms;
  uint64_t out = static_cast<uint64_t>(ms);
  return out == 0 ? 1 : out;
}
}  // namespace

Dispenser::Dispenser(const DispenserConfig& config, const DispenserPorts& ports)
    : config_(config), ports_(ports), level_(config.levels), backoff_(config.backoff), failsafe_(ports.output) {
  machineTopic(config.machine_id, topic_, sizeof topic_);
  machineNodeName(config.machine_id, node_, sizeof node_);
}

void Dispenser::begin() {
  boot_ms_ = ports_.clock.nowMs();
  failsafe_.off();  // whatever the pin did during reset, a fresh boot dispenses nothing
  sampleLevel(boot_ms_);
  link_ = LinkState::Waiting;
  next_attempt_ms_ = boot_ms_;
}

void Dispenser::tick() {
  uint64_t now = ports_.clock.nowMs();
  // DESIGN §4: scheduled_until is a fail-safe; revert even with no hub. The Failsafe may have
  // switched the pin off already (from the deadline task while this loop was stuck).
  failsafe_.poll(now);
  if (has_deadline_ && (now >= deadline_ms_ || (outputOn() && !failsafe_.isOn()))) revert();
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
  uint32_t delay = backoff_.next(ports_.random, outputOn() ? config_.on_retry_max_ms : UINT32_MAX);
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
  decodeInbound(payload, len, config_.machine_id, config_.max_on_s, scratch_, inbound_);
  switch (inbound_.kind) {
    case InboundKind::Control: applyControl(inbound_.control); break;
    case InboundKind::ReportRequest: publishReport(); break;
    case InboundKind::Update: handleUpdate(); break;
    case InboundKind::HubReply: emit(eventLine("hub_reply")); break;
    case InboundKind::Invalid: refuse(inbound_.message); break;
  }
}

void Dispenser::handleUpdate() {
  UpdateCommand command;
  char problem[96];
  if (updater_ == nullptr) return refuse("request_type: this firmware does not update over the air");
  bool valid = decodeUpdate(scratch_, config_.ota_max_size, command, problem, sizeof problem);
  const JsonField* v = scratch_.find("version");
  const char* version = valid ? command.version : (v != nullptr && v->type == JsonType::String && !v->has_nul ? v->str : "");
  if (!valid) return publishOta("refused", version, problem);
  // Never while dispensing: the hub sends updates to idle bays only, but a session may start.
  if (outputOn()) return publishOta("refused", version, "busy: the dispenser is running a session");
  emit(eventLine("ota_request").str("version", command.version).integer("size", command.size));
  publishOta("downloading", command.version, nullptr);
  updater_->request(command);
}

void Dispenser::publishOta(const char* state, const char* version, const char* message) {
  char buf[kPayloadMax];
  JsonWriter w(buf, sizeof buf);
  w.integer("machine_id", config_.machine_id).str("ota", state).str("version", version).str("firmware", config_.firmware);
  if (message != nullptr) w.str("message", message);
  w.str("origin_node", node_).str("destination_node", kNodeMachineHandler);
  const char* text = w.finish();
  if (text != nullptr && link_ == LinkState::Connected) ports_.mqtt.publish(kTopicHandler, text);
  emit(eventLine("ota").str("state", state).str("version", version).str("message", message != nullptr ? message : ""));
}

void Dispenser::refuse(const char* message) {
  ++refused_;
  emit(eventLine("refused").str("message", message));
  confirm(false, inbound_, message);
}

bool Dispenser::isResend(const Control& c) const {
  return has_last_ && last_.exchange_id == c.exchange_id && last_.status == c.status && last_.has_session == c.has_session &&
         last_.session_id == c.session_id && last_.has_until == c.has_until && last_.scheduled_until == c.scheduled_until;
}

void Dispenser::applyControl(const Control& c) {
  if (isResend(c)) {
    // The hub retries when our Confirmation was lost: confirm again without re-arming. Once the
    // run has ended the machine is idle, and saying "active" would tell the hub it dispenses.
    if (last_lapsed_) refuse("scheduled_until: this control's run has already ended");
    else confirm(true, inbound_, nullptr);
    return;
  }
  has_last_ = true;
  last_lapsed_ = false;
  last_ = c;
  uint64_t now = ports_.clock.nowMs();
  Status status = c.status;
  Deadline deadline{false, 0, "deadline"};
  // Measured from the hub's own timestamp, so the machine needs no wall clock (DESIGN §4).
  if (status == Status::Active) {
    // decodeInbound refused a run of 0 s or less or over max_on_s; no scheduled_until gets the
    // device's own maximum: the output is never on without a deadline.
    uint64_t max_ms = static_cast<uint64_t>(config_.max_on_s) * 1000u;
    uint64_t run = c.has_until ? runMs(c.scheduled_until - c.timestamp, max_ms) : max_ms;
    deadline = Deadline{true, now + (run == 0 ? 1 : run), c.has_until ? "deadline" : "max_on"};
  } else if (status == Status::Maintenance && c.has_until) {
    uint64_t run = runMs(c.scheduled_until - c.timestamp, kMaxHoldMs);
    if (run == 0) status = Status::Idle;  // already over: idle at once, no maintenance blip
    else deadline = Deadline{true, now + run, "deadline"};
  }
  bool hold = status != Status::Idle;
  bool changed = setState(status, hold && c.has_session, c.session_id, hold && c.has_until, c.scheduled_until, deadline, "control");
  confirm(true, inbound_, nullptr);  // confirm first, then report the new state
  if (changed) publishReport();
}

void Dispenser::revert() {
  const char* reason = deadline_reason_;
  if (has_last_) last_lapsed_ = true;
  if (setState(Status::Idle, false, 0, false, 0, Deadline{false, 0, "deadline"}, reason)) publishReport();
}

bool Dispenser::setState(Status status, bool has_session, int64_t session, bool has_until, double until, Deadline deadline, const char* reason) {
  bool was_on = outputOn();
  int64_t logged_session = was_on ? session_id_ : (has_session ? session : 0);  // the session switched on or off
  bool changed = status != status_ || has_session != has_session_ || (has_session && session != session_id_) ||
                 has_until != has_until_ || (has_until && until != scheduled_until_);
  status_ = status;
  has_session_ = has_session;
  session_id_ = has_session ? session : 0;
  has_until_ = has_until;
  scheduled_until_ = has_until ? until : 0;
  has_deadline_ = deadline.set;
  deadline_ms_ = deadline.set ? deadline.at_ms : 0;
  deadline_reason_ = deadline.reason;
  // The pin goes through the Failsafe, always with the deadline (applyControl gives every
  // active state one).
  if (outputOn()) failsafe_.on(deadline_ms_);
  else if (failsafe_.isOn()) failsafe_.off();  // not when the Failsafe switched it off already
  if (outputOn() != was_on) {
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
  ports_.net.writeLinkStats(w);
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
