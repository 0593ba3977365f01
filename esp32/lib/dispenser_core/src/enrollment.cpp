#include "enrollment.h"

#include <cstdio>
#include <cstring>

#include "protocol.h"

namespace dc {

namespace {
bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

void invalid(EnrollCommand& out, const char* field, const char* problem) {
  out.kind = EnrollCommandKind::Invalid;
  std::snprintf(out.message, sizeof out.message, "%s: %s", field, problem);
}

// A string field that is present, a string, not truncated, without \u0000, non-empty.
const JsonField* cleanString(const JsonObject& o, const char* key) {
  const JsonField* f = o.find(key);
  if (f == nullptr || f->type != JsonType::String || f->str_truncated || f->has_nul || f->str[0] == '\0') return nullptr;
  return f;
}
}  // namespace

bool isMac(const char* mac) {
  if (mac == nullptr || std::strlen(mac) != kMacLength) return false;
  for (size_t i = 0; i < kMacLength; ++i)
    if (!isHex(mac[i])) return false;
  return true;
}

bool normalizeMac(const char* in, char out[kMacLength + 1]) {
  size_t n = 0;
  for (const char* p = in; p != nullptr && *p != '\0'; ++p) {
    if (*p == ':' || *p == '-') continue;
    char c = lower(*p);
    if (!isHex(c) || n == kMacLength) return false;
    out[n++] = c;
  }
  out[n] = '\0';
  return n == kMacLength;
}

void decodeEnrollCommand(const char* payload, size_t len, JsonObject& scratch, EnrollCommand& out) {
  std::memset(&out, 0, sizeof out);
  if (parseObject(payload, len, scratch) != JsonError::None) return invalid(out, "(payload)", "not a JSON object");
  const JsonField* command = scratch.find("command");
  if (command == nullptr) {
    out.kind = EnrollCommandKind::Ignore;  // our own announcement, echoed back
    return;
  }
  if (command->type != JsonType::String || command->has_nul) return invalid(out, "command", "must be a string");
  if (std::strcmp(command->str, "identify") == 0) {
    const JsonField* s = scratch.find("seconds");
    if (s == nullptr || s->type != JsonType::Number || !isSafeInteger(s->number) || s->number < 1 || s->number > 120)
      return invalid(out, "seconds", "must be a whole number 1..120");
    out.kind = EnrollCommandKind::Identify;
    out.seconds = static_cast<uint32_t>(s->number);
    return;
  }
  if (std::strcmp(command->str, "assign") != 0) return invalid(out, "command", "must be identify or assign");
  const JsonField* id = scratch.find("machine_id");
  if (id == nullptr || id->type != JsonType::Number || !isSafeInteger(id->number) || id->number < 1 || id->number > kMaxMachineId)
    return invalid(out, "machine_id", "must be a whole number 1..9999");
  int machine = static_cast<int>(id->number);
  char expected[sizeof out.assign.username];
  machineNodeName(machine, expected, sizeof expected);
  const JsonField* user = cleanString(scratch, "username");
  if (user == nullptr || std::strcmp(user->str, expected) != 0) return invalid(out, "username", "must be the bay's node name");
  const JsonField* secret = cleanString(scratch, "secret");
  if (secret == nullptr) return invalid(out, "secret", "must be a non-empty string");
  out.kind = EnrollCommandKind::Assign;
  out.assign.machine_id = machine;
  std::snprintf(out.assign.username, sizeof out.assign.username, "%s", expected);
  std::snprintf(out.assign.secret, sizeof out.assign.secret, "%s", secret->str);
}

Enroller::Enroller(const EnrollConfig& config, const EnrollPorts& ports) : config_(config), ports_(ports), backoff_(config.backoff) {
  std::snprintf(topic_, sizeof topic_, "%s%s", kTopicEnrollPrefix, config.mac);
  std::snprintf(client_id_, sizeof client_id_, "%s%s", kEnrollClientPrefix, config.mac);
}

void Enroller::log(const char* event, const char* key, const char* value, int64_t number) {
  if (ports_.log == nullptr) return;
  char buf[160];
  JsonWriter w(buf, sizeof buf);
  w.str("event", event).str("mac", config_.mac).integer("mono_ms", static_cast<int64_t>(ports_.clock.nowMs()));
  if (key != nullptr && value != nullptr) w.str(key, value);
  else if (key != nullptr) w.integer(key, number);
  const char* text = w.finish();
  if (text != nullptr) ports_.log->line(text);
}

void Enroller::begin() {
  ports_.led.set(false);
  next_attempt_ms_ = ports_.clock.nowMs();
  log("enrolling", "topic", topic_);
}

void Enroller::tryConnect(uint64_t now) {
  ConnectOptions options{client_id_, kEnrollUsername, config_.secret, config_.keepalive_s, true};
  connecting_ = true;
  connect_started_ms_ = now;
  switch (ports_.mqtt.connect(options)) {
    case ConnectResult::Connected: onConnected(); break;
    case ConnectResult::Pending: break;
    case ConnectResult::Failed: scheduleRetry(now); break;
  }
}

void Enroller::scheduleRetry(uint64_t now) {
  connecting_ = false;
  connected_ = false;
  uint32_t delay = backoff_.next(ports_.random);
  next_attempt_ms_ = now + delay;
  log("enroll_refused", "retry_in_ms", nullptr, delay);
}

void Enroller::announce(uint64_t now) {
  last_announce_ms_ = now;
  char buf[256];
  JsonWriter w(buf, sizeof buf);
  w.str("mac", config_.mac).str("firmware", config_.firmware);
  char ip[48];
  if (ports_.net.ipAddress(ip, sizeof ip)) w.str("ip_address", ip);
  int dbm = 0;
  if (ports_.net.rssi(dbm)) w.integer("rssi", dbm);
  const char* text = w.finish();
  if (text != nullptr) ports_.mqtt.publish(topic_, text);
}

void Enroller::tick() {
  uint64_t now = ports_.clock.nowMs();
  if (identify_until_ms_ > 0) {
    if (now >= identify_until_ms_) {
      identify_until_ms_ = 0;
      led_on_ = false;
      ports_.led.set(false);
      log("identify_done");
    } else if (now - last_blink_ms_ >= config_.blink_ms) {
      last_blink_ms_ = now;
      led_on_ = !led_on_;
      ports_.led.set(led_on_);
    }
  }
  if (adopted_) return;
  if (connected_) {
    if (now - last_announce_ms_ >= config_.announce_ms) announce(now);
  } else if (connecting_) {
    if (now - connect_started_ms_ >= config_.connect_timeout_ms) scheduleRetry(now);
  } else if (now >= next_attempt_ms_) {
    tryConnect(now);
  }
}

void Enroller::onConnected() {
  if (connected_) return;
  connected_ = true;
  connecting_ = false;
  backoff_.reset();
  log("enroll_connected");
  ports_.mqtt.subscribe(topic_);
  announce(ports_.clock.nowMs());
}

void Enroller::onDisconnected() {
  if (!connected_ && !connecting_) return;
  scheduleRetry(ports_.clock.nowMs());
}

void Enroller::onMessage(const char* topic, const char* payload, size_t len) {
  if (std::strcmp(topic, topic_) != 0 || adopted_) return;
  decodeEnrollCommand(payload, len, scratch_, command_);
  switch (command_.kind) {
    case EnrollCommandKind::Ignore: return;
    case EnrollCommandKind::Invalid: return log("enroll_invalid", "message", command_.message);
    case EnrollCommandKind::Identify: {
      uint64_t now = ports_.clock.nowMs();
      identify_until_ms_ = now + static_cast<uint64_t>(command_.seconds) * 1000u;
      last_blink_ms_ = now;
      led_on_ = true;
      ports_.led.set(true);
      return log("identify", "seconds", nullptr, command_.seconds);
    }
    case EnrollCommandKind::Assign:
      if (!ports_.store.save(command_.assign)) return log("nvs_failed");
      creds_ = command_.assign;
      adopted_ = true;
      log("adopted", "machine_id", nullptr, creds_.machine_id);
      return;
  }
}

}  // namespace dc
