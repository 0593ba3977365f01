#include "protocol.h"

#include <cstdio>
#include <cstring>

namespace dc {

void machineTopic(int id, char* buf, size_t n) { std::snprintf(buf, n, "%s%d", kTopicMachinePrefix, id); }

void machineNodeName(int id, char* buf, size_t n) { std::snprintf(buf, n, "machine_%03d", id); }

const char* statusName(Status s) {
  switch (s) {
    case Status::Idle: return "idle";
    case Status::Active: return "active";
    case Status::Maintenance: return "maintenance";
  }
  return "idle";
}

bool parseStatus(const char* text, Status& out) {
  static const Status all[] = {Status::Idle, Status::Active, Status::Maintenance};
  for (Status s : all) {
    if (std::strcmp(text, statusName(s)) == 0) {
      out = s;
      return true;
    }
  }
  return false;
}

const char* ballLevelName(BallLevel level) {
  switch (level) {
    case BallLevel::Empty: return "empty";
    case BallLevel::Urgent: return "urgent";
    case BallLevel::Low: return "low";
    case BallLevel::Medium: return "medium";
    case BallLevel::Full: return "full";
  }
  return "empty";
}

namespace {

enum class Check : uint8_t { Ok, Missing, Wrong, Null };

// An integer field within [min, max]; `nullable` admits null.
Check integerField(const JsonObject& o, const char* key, double min, double max, bool nullable, int64_t& out) {
  const JsonField* f = o.find(key);
  if (f == nullptr) return Check::Missing;
  if (f->type == JsonType::Null) return nullable ? Check::Null : Check::Wrong;
  if (f->type != JsonType::Number || !isSafeInteger(f->number) || f->number < min || f->number > max) return Check::Wrong;
  out = static_cast<int64_t>(f->number);
  return Check::Ok;
}

Check numberField(const JsonObject& o, const char* key, bool nullable, double& out) {
  const JsonField* f = o.find(key);
  if (f == nullptr) return Check::Missing;
  if (f->type == JsonType::Null) return nullable ? Check::Null : Check::Wrong;
  if (f->type != JsonType::Number || f->number < 0) return Check::Wrong;
  out = f->number;
  return Check::Ok;
}

bool refuse(Inbound& in, const char* field, const char* problem) {
  in.kind = InboundKind::Invalid;
  std::snprintf(in.message, sizeof in.message, "%s: %s", field, problem);
  return false;
}

bool refuseCheck(Inbound& in, const char* field, Check c, const char* wrong) {
  return refuse(in, field, c == Check::Missing ? "is required" : wrong);
}

constexpr double kMaxSafe = 9007199254740991.0;

// machine_id must be this machine (a control for another bay on our topic is a hub bug).
bool checkMachineId(const JsonObject& o, int own_id, bool required, Inbound& in) {
  int64_t id = 0;
  Check c = integerField(o, "machine_id", 1, kMaxMachineId, false, id);
  if (c == Check::Missing && !required) return true;
  if (c != Check::Ok) return refuseCheck(in, "machine_id", c, "must be an integer from 1 to 9999");
  if (id != own_id) {
    char problem[64];
    std::snprintf(problem, sizeof problem, "%lld is not this machine (%d)", static_cast<long long>(id), own_id);
    return refuse(in, "machine_id", problem);
  }
  return true;
}

// Fills what a refusal may echo, before the full validation.
void collectEcho(const JsonObject& o, Inbound& in) {
  in.has_exchange_id = integerField(o, "exchange_id", 0, kMaxSafe, false, in.exchange_id) == Check::Ok;
  in.has_session_id = integerField(o, "session_id", 1, kMaxSafe, false, in.session_id) == Check::Ok;
  const JsonField* s = o.find("status");
  in.has_status = s != nullptr && s->type == JsonType::String && !s->str_truncated && parseStatus(s->str, in.status);
}

bool decodeControl(const JsonObject& o, int own_id, Inbound& in) {
  Control& c = in.control;
  if (!checkMachineId(o, own_id, true, in)) return false;
  const JsonField* s = o.find("status");
  if (s == nullptr) return refuse(in, "status", "is required");
  if (s->type != JsonType::String || s->str_truncated || !parseStatus(s->str, c.status)) {
    return refuse(in, "status", "must be one of idle, active, maintenance");
  }
  Check k = integerField(o, "session_id", 1, kMaxSafe, true, c.session_id);
  if (k == Check::Missing || k == Check::Wrong) return refuseCheck(in, "session_id", k, "must be a positive integer or null");
  c.has_session = k == Check::Ok;
  k = numberField(o, "scheduled_until", true, c.scheduled_until);
  if (k == Check::Missing || k == Check::Wrong) return refuseCheck(in, "scheduled_until", k, "must be epoch seconds or null");
  c.has_until = k == Check::Ok;
  k = numberField(o, "timestamp", false, c.timestamp);
  if (k != Check::Ok) return refuseCheck(in, "timestamp", k, "must be epoch seconds");
  k = integerField(o, "exchange_id", 0, kMaxSafe, false, c.exchange_id);
  if (k != Check::Ok) return refuseCheck(in, "exchange_id", k, "must be a non-negative integer");
  in.kind = InboundKind::Control;
  return true;
}

}  // namespace

void decodeInbound(const char* payload, size_t len, int own_id, JsonObject& o, Inbound& in) {
  in = Inbound{};
  in.kind = InboundKind::Invalid;
  JsonError e = parseObject(payload, len, o);
  if (e != JsonError::None) {
    refuse(in, "(payload)", jsonErrorText(e));
    return;
  }
  collectEcho(o, in);
  if (o.find("success") != nullptr) {
    in.kind = InboundKind::HubReply;
    return;
  }
  const JsonField* rt = o.find("request_type");
  if (rt != nullptr) {
    if (rt->type != JsonType::String || std::strcmp(rt->str, "machine") != 0) {
      refuse(in, "request_type", "a machine answers only \"machine\"");
      return;
    }
    if (checkMachineId(o, own_id, false, in)) in.kind = InboundKind::ReportRequest;
    return;
  }
  decodeControl(o, own_id, in);
}

}  // namespace dc
