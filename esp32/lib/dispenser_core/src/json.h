// A minimal JSON layer for the flat objects of DESIGN §4. Fixed-size storage, no heap:
// the same code parses controls on the ESP32 and in the host tests (no ArduinoJson in the core).
// Nested objects/arrays are accepted and skipped (peers may add fields), strings longer than
// kMaxString are flagged truncated, and the last of duplicate keys wins (as JSON.parse does).
// A \u0000 in a value is flagged (has_nul), so "active\u0000junk" can never read as "active"
// through a C string; in a key it is a parse error.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dc {

enum class JsonType : uint8_t { Null, Bool, Number, String, Object, Array };

struct JsonField {
  static constexpr size_t kMaxKey = 24;
  static constexpr size_t kMaxString = 72;
  char key[kMaxKey];
  bool key_truncated;
  JsonType type;
  bool boolean;
  double number;
  char str[kMaxString];
  bool str_truncated;
  bool has_nul;  // the string value held \u0000 (str stops there: never use it)
};

struct JsonObject {
  static constexpr size_t kMaxFields = 16;
  JsonField fields[kMaxFields];
  size_t count;
  // The field named `key` (last one when repeated), or nullptr.
  const JsonField* find(const char* key) const;
};

enum class JsonError : uint8_t { None, Syntax, NotObject, TooManyFields, TooDeep, NulInKey };

// Parses `len` bytes of `text` (not NUL-terminated) into `out`.
JsonError parseObject(const char* text, size_t len, JsonObject& out);
const char* jsonErrorText(JsonError e);

// True when the number is an integer that a double holds exactly (|v| <= 2^53), as
// JavaScript's Number.isInteger + MAX_SAFE_INTEGER see it on the hub.
bool isSafeInteger(double v);

// Builds one JSON object into a caller's buffer; any overflow makes ok() false.
class JsonWriter {
 public:
  JsonWriter(char* buf, size_t size);
  JsonWriter& str(const char* key, const char* value);
  JsonWriter& integer(const char* key, int64_t value);
  JsonWriter& number(const char* key, double value);
  JsonWriter& boolean(const char* key, bool value);
  JsonWriter& null(const char* key);
  // A nested object: w.object("k").integer("a", 1).end() -> "k":{"a":1}.
  JsonWriter& object(const char* key);
  JsonWriter& end();
  // Closes the object; returns the text (valid while the buffer lives) or nullptr on overflow.
  const char* finish();
  bool ok() const { return ok_; }

 private:
  void raw(const char* s);
  // Not putc: that name is a macro in some C libraries (newlib, older glibc).
  void put(char c);
  void key(const char* k);
  void quoted(const char* s);
  char* buf_;
  size_t size_;
  size_t len_;
  bool ok_;
  bool first_;
};

}  // namespace dc
