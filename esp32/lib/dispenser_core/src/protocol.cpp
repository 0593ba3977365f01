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
  in.has_status = s != nullptr && s->type == JsonType::String && !s->str_truncated && !s->has_nul && parseStatus(s->str, in.status);
}

// C strings stop at NUL: "active\u0000junk" would compare equal to "active". Refused, naming
// the first field that holds one.
bool checkNoNul(const JsonObject& o, Inbound& in) {
  for (size_t i = 0; i < o.count; ++i) {
    if (o.fields[i].type == JsonType::String && o.fields[i].has_nul) return refuse(in, o.fields[i].key, "must not contain \\u0000");
  }
  return true;
}

// An `active` run: more than 0 s (a control already past its end must not pulse the output) and
// at most max_on_s. The difference of two finite non-negative doubles is finite; the check
// is written so that NaN fails it too.
bool checkRun(const Control& c, uint32_t max_on_s, Inbound& in) {
  if (c.status != Status::Active || !c.has_until) return true;
  double run = c.scheduled_until - c.timestamp;
  if (!(run >= 0.001)) return refuse(in, "scheduled_until", "must be after timestamp (the run would be 0 s or less)");
  if (!(run <= static_cast<double>(max_on_s))) {
    char problem[80];
    std::snprintf(problem, sizeof problem, "run is over this machine's maximum of %lu s", static_cast<unsigned long>(max_on_s));
    return refuse(in, "scheduled_until", problem);
  }
  return true;
}

bool decodeControl(const JsonObject& o, int own_id, uint32_t max_on_s, Inbound& in) {
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
  if (!checkRun(c, max_on_s, in)) return false;
  in.kind = InboundKind::Control;
  return true;
}

}  // namespace

void decodeInbound(const char* payload, size_t len, int own_id, uint32_t max_on_s, JsonObject& o, Inbound& in) {
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
  if (!checkNoNul(o, in)) return;
  const JsonField* rt = o.find("request_type");
  if (rt != nullptr) {
    bool update = rt->type == JsonType::String && std::strcmp(rt->str, "update") == 0;
    if (!update && (rt->type != JsonType::String || std::strcmp(rt->str, "machine") != 0)) {
      refuse(in, "request_type", "a machine answers only \"machine\" and \"update\"");
      return;
    }
    if (checkMachineId(o, own_id, false, in)) in.kind = update ? InboundKind::Update : InboundKind::ReportRequest;
    return;
  }
  decodeControl(o, own_id, max_on_s, in);
}

}  // namespace dc
