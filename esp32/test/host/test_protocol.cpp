#include <string>

#include "mini_test.h"
#include "protocol.h"

using dc::InboundKind;

namespace {

dc::Inbound decode(const std::string& text, int own = 2) {
  static dc::JsonObject scratch;
  dc::Inbound in;
  dc::decodeInbound(text.data(), text.size(), own, scratch, in);
  return in;
}

const char* kControl =
    R"({"machine_id": 2, "session_id": 54321, "status": "active", "scheduled_until": 1673436080,
        "timestamp": 1673432480.01, "exchange_id": 77, "origin_node": "machine_handler", "destination_node": "machine_002"})";

// kControl with one field replaced (or removed when value is empty).
std::string with(const std::string& key, const std::string& value) {
  std::string s = kControl;
  size_t k = s.find("\"" + key + "\"");
  size_t end = s.find_first_of(",}", s.find(':', k));
  if (value.empty()) return s.erase(k, end - k + 1);
  return s.replace(k, end - k, "\"" + key + "\": " + value);
}

}  // namespace

TEST(protocol_names_match_the_contract) {
  char buf[32];
  dc::machineTopic(4, buf, sizeof buf);
  CHECK_EQ(buf, "external/machine/4");
  dc::machineNodeName(4, buf, sizeof buf);
  CHECK_EQ(buf, "machine_004");
  dc::machineNodeName(1234, buf, sizeof buf);
  CHECK_EQ(buf, "machine_1234");
}

TEST(protocol_decodes_the_design_example_control) {
  dc::Inbound in = decode(kControl);
  CHECK(in.kind == InboundKind::Control);
  CHECK(in.control.status == dc::Status::Active);
  CHECK(in.control.has_session);
  CHECK_EQ(in.control.session_id, 54321);
  CHECK(in.control.has_until);
  CHECK_EQ(in.control.scheduled_until, 1673436080.0);
  CHECK_EQ(in.control.timestamp, 1673432480.01);
  CHECK_EQ(in.control.exchange_id, 77);
}

TEST(protocol_accepts_null_session_and_until) {
  dc::Inbound in = decode(with("session_id", "null"));
  CHECK(in.kind == InboundKind::Control);
  CHECK(!in.control.has_session);
  in = decode(with("scheduled_until", "null"));
  CHECK(in.kind == InboundKind::Control);
  CHECK(!in.control.has_until);
}

TEST(protocol_refusals_name_the_field) {
  struct Case {
    std::string key, value, message;
  };
  const Case cases[] = {
      {"machine_id", "", "machine_id: is required"},
      {"machine_id", "\"2\"", "machine_id: must be an integer from 1 to 9999"},
      {"machine_id", "3", "machine_id: 3 is not this machine (2)"},
      {"status", "", "status: is required"},
      {"status", "\"dancing\"", "status: must be one of idle, active, maintenance"},
      {"status", "1", "status: must be one of idle, active, maintenance"},
      {"session_id", "", "session_id: is required"},
      {"session_id", "1.5", "session_id: must be a positive integer or null"},
      {"session_id", "0", "session_id: must be a positive integer or null"},
      {"scheduled_until", "", "scheduled_until: is required"},
      {"scheduled_until", "\"soon\"", "scheduled_until: must be epoch seconds or null"},
      {"timestamp", "", "timestamp: is required"},
      {"timestamp", "null", "timestamp: must be epoch seconds"},
      {"exchange_id", "", "exchange_id: is required"},
      {"exchange_id", "-1", "exchange_id: must be a non-negative integer"},
  };
  for (const Case& c : cases) {
    dc::Inbound in = decode(with(c.key, c.value));
    CHECK(in.kind == InboundKind::Invalid);
    if (c.message != in.message) mini::fail(__FILE__, __LINE__, c.key + "=" + c.value + " gave: " + in.message);
  }
}

TEST(protocol_refusal_still_echoes_valid_fields) {
  dc::Inbound in = decode(with("status", "\"dancing\""));
  CHECK(in.has_exchange_id);
  CHECK_EQ(in.exchange_id, 77);
  CHECK(in.has_session_id);
  CHECK(!in.has_status);
  in = decode(with("exchange_id", "\"x\""));
  CHECK(!in.has_exchange_id);
  CHECK(in.has_status);
}

TEST(protocol_bad_payloads) {
  CHECK_EQ(decode("not json").message, "(payload): payload is not valid JSON");
  CHECK_EQ(decode("[1]").message, "(payload): payload must be a JSON object");
  CHECK(decode("").kind == InboundKind::Invalid);
}

TEST(protocol_report_requests_and_hub_replies) {
  CHECK(decode(R"({"request_type":"machine","request_id":5,"machine_id":2})").kind == InboundKind::ReportRequest);
  CHECK(decode(R"({"request_type":"machine"})").kind == InboundKind::ReportRequest);
  dc::Inbound in = decode(R"({"request_type":"machine","machine_id":9})");
  CHECK(in.kind == InboundKind::Invalid);
  CHECK_EQ(in.message, "machine_id: 9 is not this machine (2)");
  CHECK_EQ(decode(R"({"request_type":"schedule"})").message, "request_type: a machine answers only \"machine\"");
  CHECK(decode(R"({"success":false,"message":"uptime_s: bad","machine_id":2})").kind == InboundKind::HubReply);
}
