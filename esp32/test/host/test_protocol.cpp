#include <string>

#include "mini_test.h"
#include "protocol.h"

using dc::InboundKind;

namespace {

dc::Inbound decode(const std::string& text, int own = 2) {
  static dc::JsonObject scratch;
  dc::Inbound in;
  dc::decodeInbound(text.data(), text.size(), own, dc::kMaxOnSeconds, scratch, in);
  return in;
}

const char* kControl =
    R"({"machine_id": 2, "session_id": 54321, "status": "active", "scheduled_until": 1673436080,
        "timestamp": 1673432480.01, "exchange_id": 77, "origin_node": "machine_handler", "destination_node": "machine_002"})";

// `base` with one field replaced (or removed when value is empty).
std::string with(std::string s, const std::string& key, const std::string& value) {
  size_t k = s.find("\"" + key + "\"");
  size_t end = s.find_first_of(",}", s.find(':', k));
  if (value.empty()) return s.erase(k, end - k + 1);
  return s.replace(k, end - k, "\"" + key + "\": " + value);
}

// kControl with one field replaced (or removed when value is empty).
std::string with(const std::string& key, const std::string& value) { return with(kControl, key, value); }

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

// Defect 1: no ceiling on on-time. kControl runs 3599.99 s; the default maximum is 4 h.
TEST(protocol_refuses_an_active_run_of_0_s_or_less_or_over_max_on_seconds) {
  const std::string over = "scheduled_until: run is over this machine's maximum of 14400 s";
  const std::string none = "scheduled_until: must be after timestamp (the run would be 0 s or less)";
  struct Case {
    std::string until, timestamp, message;
  };
  const Case cases[] = {
      {"1674296480.01", "1673432480.01", over},  // 10 days
      {"1e300", "1673432480.01", over},          // was undefined behaviour (double -> uint64_t)
      {"1e13", "1673432480.01", over},           // was a 317,000-year run
      {"1.7976931348623157e308", "0", over},
      {"1673446880.02", "1673432480.01", over},  // 4 h + 10 ms
      {"1673432480.01", "1673432480.01", none},  // already at its end
      {"1673432470", "1673432480.01", none},     // past
      {"1673432480.0104", "1673432480.01", none},  // 0.4 ms: rounds to no run at all
      {"1e300", "1e300", none},
      {"0", "1e300", none},
  };
  for (const Case& c : cases) {
    dc::Inbound in = decode(with(with("scheduled_until", c.until), "timestamp", c.timestamp));
    CHECK(in.kind == InboundKind::Invalid);
    if (c.message != in.message) mini::fail(__FILE__, __LINE__, c.until + " - " + c.timestamp + " gave: " + in.message);
    CHECK(in.has_exchange_id);  // the refusal still echoes the exchange, for the hub to match
  }
  // Exactly the maximum is allowed; a smaller build-time maximum is honoured.
  dc::Inbound ok = decode(with(with("scheduled_until", "14400"), "timestamp", "0"));
  CHECK(ok.kind == InboundKind::Control);
  static dc::JsonObject scratch;
  std::string hour = with(with("scheduled_until", "3601"), "timestamp", "0");
  dc::decodeInbound(hour.data(), hour.size(), 2, 3600, scratch, ok);
  CHECK_EQ(ok.message, "scheduled_until: run is over this machine's maximum of 3600 s");
  // Numbers beyond a double (1e400 = inf) are not JSON numbers the device accepts at all.
  CHECK_EQ(decode(with("scheduled_until", "1e400")).message, "(payload): payload is not valid JSON");
  // Off states are never refused for their length: off is always safe.
  CHECK(decode(with(with("status", "\"maintenance\""), "scheduled_until", "1e300")).kind == InboundKind::Control);
  CHECK(decode(with(with("status", "\"idle\""), "scheduled_until", "0")).kind == InboundKind::Control);
}

// Defect 7: "active\u0000junk" read as "active" through a C string.
TEST(protocol_refuses_nul_in_strings_naming_the_field) {
  dc::Inbound in = decode(with("status", R"("active\u0000junk")"));
  CHECK(in.kind == InboundKind::Invalid);
  CHECK_EQ(in.message, "status: must not contain \\u0000");
  CHECK(!in.has_status);  // and the refusal does not echo it as "active"
  in = decode(with("origin_node", R"("machine_handler\u0000")"));
  CHECK_EQ(in.message, "origin_node: must not contain \\u0000");
  in = decode(R"({"request_type":"machine\u0000x","machine_id":2})");
  CHECK_EQ(in.message, "request_type: must not contain \\u0000");
  in = decode(R"({"status\u0000x":"active","machine_id":2})");
  CHECK_EQ(in.message, "(payload): payload has a key with \\u0000");
  // Other escapes are still fine.
  CHECK(decode(with("origin_node", R"("machine\u005fhandler")")).kind == InboundKind::Control);
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
  CHECK_EQ(decode(R"({"request_type":"schedule"})").message, "request_type: a machine answers only \"machine\" and \"update\"");
  CHECK(decode(R"({"success":false,"message":"uptime_s: bad","machine_id":2})").kind == InboundKind::HubReply);
}
