#include <cstdio>
#include <cstring>
#include <string>

// Defect 7: JsonWriter had a member named putc, which some C libraries (newlib, older glibc)
// define as a macro. With the macro defined here, json.h only compiles if no member uses it.
#ifndef putc
#define putc(c, stream) fputc((c), (stream))
#endif
#include "json.h"
#include "mini_test.h"

using dc::JsonError;
using dc::JsonObject;
using dc::JsonType;

static JsonError parse(const std::string& text, JsonObject& o) { return dc::parseObject(text.data(), text.size(), o); }

TEST(json_parses_a_flat_control) {
  JsonObject o;
  CHECK_EQ(static_cast<int>(parse(R"({"machine_id": 2, "session_id": null, "status": "active",
      "scheduled_until": 1673436080, "timestamp": 1673432480.01, "ok": true})", o)), 0);
  CHECK_EQ(o.count, 6u);
  CHECK_EQ(o.find("machine_id")->number, 2.0);
  CHECK(o.find("session_id")->type == JsonType::Null);
  CHECK_EQ(o.find("status")->str, "active");
  CHECK_EQ(o.find("timestamp")->number, 1673432480.01);
  CHECK(o.find("ok")->boolean);
  CHECK(o.find("absent") == nullptr);
}

TEST(json_skips_nested_values_and_keeps_the_last_duplicate) {
  JsonObject o;
  CHECK(parse(R"({"a": {"b": [1, {"c": "}"}]}, "x": 1, "list": [], "x": 2})", o) == JsonError::None);
  CHECK(o.find("a")->type == JsonType::Object);
  CHECK(o.find("list")->type == JsonType::Array);
  CHECK_EQ(o.find("x")->number, 2.0);
}

TEST(json_decodes_escapes_and_unicode) {
  JsonObject o;
  CHECK(parse(R"({"s": "a\"b\\c\/d\n\u00e9\u20ac"})", o) == JsonError::None);
  CHECK_EQ(o.find("s")->str, "a\"b\\c/d\n\xC3\xA9\xE2\x82\xAC");
}

TEST(json_flags_truncated_strings_and_keys) {
  JsonObject o;
  std::string longValue(100, 'v');
  std::string longKey(40, 'k');
  CHECK(parse("{\"s\": \"" + longValue + "\", \"" + longKey + "\": 1}", o) == JsonError::None);
  CHECK(o.find("s")->str_truncated);
  CHECK_EQ(std::strlen(o.find("s")->str), dc::JsonField::kMaxString - 1);
  CHECK(o.find(longKey.substr(0, dc::JsonField::kMaxKey - 1).c_str()) == nullptr);
}

TEST(json_rejects_bad_syntax) {
  JsonObject o;
  const char* bad[] = {"",         "{",          "{\"a\":}",      "{\"a\":1,}",     "{\"a\" 1}",    "{a:1}",
                       "{\"a\":01}", "{\"a\":1.}",  "{\"a\":-}",     "{\"a\":tru}",    "{\"a\":1} x",  "{\"a\":\"\x01\"}",
                       "{\"a\":\"x", "{\"a\":[1,]}", "{\"a\":\"\\q\"}", "{\"a\":NaN}",   "nul"};
  for (const char* text : bad) {
    if (parse(text, o) != JsonError::Syntax) mini::fail(__FILE__, __LINE__, std::string("accepted: ") + text);
  }
}

TEST(json_tells_a_non_object_from_bad_json) {
  JsonObject o;
  CHECK(parse("[1,2]", o) == JsonError::NotObject);
  CHECK(parse("\"text\"", o) == JsonError::NotObject);
  CHECK(parse("42", o) == JsonError::NotObject);
  CHECK(parse("null", o) == JsonError::NotObject);
}

TEST(json_limits_fields_and_depth) {
  JsonObject o;
  std::string many = "{";
  for (int i = 0; i < 17; ++i) many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  CHECK(parse(many + "}", o) == JsonError::TooManyFields);
  CHECK(parse(R"({"a":[[[[[[[[[[1]]]]]]]]]]})", o) == JsonError::TooDeep);
  CHECK(parse(R"({"a":[[[[[[1]]]]]]})", o) == JsonError::None);
}

TEST(json_safe_integers) {
  CHECK(dc::isSafeInteger(0));
  CHECK(dc::isSafeInteger(9007199254740991.0));
  CHECK(dc::isSafeInteger(1e3));
  CHECK(!dc::isSafeInteger(1.5));
  CHECK(!dc::isSafeInteger(1e300));
}

TEST(json_writer_escapes_and_formats_numbers) {
  char buf[200];
  dc::JsonWriter w(buf, sizeof buf);
  w.str("m", "say \"hi\"\\\n").integer("i", -42).number("t", 1673436080.5).number("u", 1673436080.0).boolean("b", false).null("n");
  CHECK_EQ(w.finish(), R"({"m":"say \"hi\"\\\u000a","i":-42,"t":1673436080.5,"u":1673436080,"b":false,"n":null})");
  JsonObject o;
  CHECK(parse(buf, o) == JsonError::None);
  CHECK_EQ(o.find("m")->str, "say \"hi\"\\\n");
}

TEST(json_writer_reports_overflow) {
  char buf[16];
  dc::JsonWriter w(buf, sizeof buf);
  w.str("key", "a value that does not fit");
  CHECK(w.finish() == nullptr);
  CHECK(!w.ok());
  CHECK(std::strlen(buf) < sizeof buf);
}

TEST(json_flags_nul_in_values_and_refuses_it_in_keys) {
  JsonObject o;
  CHECK(parse(R"({"status":"active\u0000junk","ok":"fine"})", o) == JsonError::None);
  CHECK(o.find("status")->has_nul);
  CHECK(!o.find("ok")->has_nul);
  CHECK(parse(R"({"st\u0000":"active"})", o) == JsonError::NulInKey);
  CHECK(parse(R"({"nested":{"a":"\u0000"}})", o) == JsonError::None);  // skipped: never read
}

TEST(json_writer_nests_one_object) {
  char buf[96];
  dc::JsonWriter w(buf, sizeof buf);
  w.integer("a", 1).object("r").integer("201", 3).integer("8", 1).end().str("b", "x");
  CHECK_EQ(w.finish(), R"({"a":1,"r":{"201":3,"8":1},"b":"x"})");
  dc::JsonWriter e(buf, sizeof buf);
  e.object("r").end();
  CHECK_EQ(e.finish(), R"({"r":{}})");
}
