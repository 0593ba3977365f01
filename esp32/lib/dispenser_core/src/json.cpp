#include "json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace dc {

namespace {

constexpr int kMaxDepth = 8;

// Recursive-descent reader over [p, end). Every method returns false on a syntax error.
class Reader {
 public:
  Reader(const char* p, const char* end) : p_(p), end_(end) {}

  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool at(char c) {
    ws();
    return p_ < end_ && *p_ == c;
  }
  bool eat(char c) {
    if (!at(c)) return false;
    ++p_;
    return true;
  }
  bool done() {
    ws();
    return p_ == end_;
  }
  bool literal(const char* word) {
    size_t n = std::strlen(word);
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  // Reads a string; copies up to cap-1 bytes into out (out may be nullptr to skip).
  // *nul is set when the string holds \u0000.
  bool string(char* out, size_t cap, bool* truncated, bool* nul = nullptr) {
    if (!eat('"')) return false;
    size_t n = 0;
    bool cut = false;
    if (nul != nullptr) *nul = false;
    auto put = [&](char c) {
      if (out == nullptr) return;
      if (n + 1 < cap) out[n++] = c;
      else cut = true;
    };
    while (p_ < end_) {
      unsigned char c = static_cast<unsigned char>(*p_++);
      if (c == '"') {
        if (out != nullptr) out[n] = '\0';
        if (truncated != nullptr) *truncated = cut;
        return true;
      }
      if (c < 0x20) return false;  // raw control characters are not allowed in JSON strings
      if (c != '\\') {
        put(static_cast<char>(c));
        continue;
      }
      if (p_ >= end_) return false;
      char e = *p_++;
      switch (e) {
        case '"': put('"'); break;
        case '\\': put('\\'); break;
        case '/': put('/'); break;
        case 'b': put('\b'); break;
        case 'f': put('\f'); break;
        case 'n': put('\n'); break;
        case 'r': put('\r'); break;
        case 't': put('\t'); break;
        case 'u': {
          unsigned v = 0;
          if (!hex4(v)) return false;
          if (v == 0 && nul != nullptr) *nul = true;
          utf8(v, put);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  bool number(double& out) {
    ws();
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      digits();
    } else {
      return false;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    char tmp[40];
    size_t n = static_cast<size_t>(p_ - start);
    if (n >= sizeof tmp) return false;  // no control field needs more digits than this
    std::memcpy(tmp, start, n);
    tmp[n] = '\0';
    out = std::strtod(tmp, nullptr);
    return std::isfinite(out);
  }

  // Skips any value (used for nested objects and arrays).
  bool skip(int depth) {
    if (depth > kMaxDepth) return false;
    ws();
    if (p_ >= end_) return false;
    char c = *p_;
    if (c == '"') return string(nullptr, 0, nullptr);
    if (c == '{' || c == '[') return skipContainer(depth);
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    double ignored;
    return number(ignored);
  }

  bool tooDeep = false;

 private:
  bool digits() {
    const char* s = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ > s;
  }
  bool hex4(unsigned& v) {
    if (end_ - p_ < 4) return false;
    for (int i = 0; i < 4; ++i) {
      char h = *p_++;
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<unsigned>(h - 'A' + 10);
      else return false;
    }
    return true;
  }
  template <typename Put>
  static void utf8(unsigned v, Put& put) {
    // Surrogate halves are kept as U+FFFD: no control field is outside the BMP.
    if (v >= 0xD800 && v <= 0xDFFF) v = 0xFFFD;
    if (v < 0x80) {
      put(static_cast<char>(v));
    } else if (v < 0x800) {
      put(static_cast<char>(0xC0 | (v >> 6)));
      put(static_cast<char>(0x80 | (v & 0x3F)));
    } else {
      put(static_cast<char>(0xE0 | (v >> 12)));
      put(static_cast<char>(0x80 | ((v >> 6) & 0x3F)));
      put(static_cast<char>(0x80 | (v & 0x3F)));
    }
  }
  bool skipContainer(int depth) {
    if (depth >= kMaxDepth) {
      tooDeep = true;
      return false;
    }
    bool object = *p_ == '{';
    char close = object ? '}' : ']';
    ++p_;
    if (eat(close)) return true;
    do {
      if (object) {
        if (!string(nullptr, 0, nullptr) || !eat(':')) return false;
      }
      if (!skip(depth + 1)) return false;
    } while (eat(','));
    return eat(close);
  }

  const char* p_;
  const char* end_;
};

bool readValue(Reader& r, JsonField& f) {
  if (r.at('"')) {
    f.type = JsonType::String;
    return r.string(f.str, sizeof f.str, &f.str_truncated, &f.has_nul);
  }
  if (r.at('{') || r.at('[')) {
    f.type = r.at('{') ? JsonType::Object : JsonType::Array;
    return r.skip(1);
  }
  if (r.at('t') || r.at('f')) {
    f.type = JsonType::Bool;
    f.boolean = r.at('t');
    return r.literal(f.boolean ? "true" : "false");
  }
  if (r.at('n')) {
    f.type = JsonType::Null;
    return r.literal("null");
  }
  f.type = JsonType::Number;
  return r.number(f.number);
}

}  // namespace

const JsonField* JsonObject::find(const char* key) const {
  for (size_t i = count; i > 0; --i) {
    const JsonField& f = fields[i - 1];
    if (!f.key_truncated && std::strcmp(f.key, key) == 0) return &f;
  }
  return nullptr;
}

JsonError parseObject(const char* text, size_t len, JsonObject& out) {
  out.count = 0;
  Reader r(text, text + len);
  if (r.done()) return JsonError::Syntax;
  if (!r.at('{')) {
    // A valid non-object value (array, number, string) is "not an object", not bad JSON.
    return r.skip(0) && r.done() ? JsonError::NotObject : JsonError::Syntax;
  }
  r.eat('{');
  if (!r.eat('}')) {
    do {
      if (out.count == JsonObject::kMaxFields) return JsonError::TooManyFields;
      JsonField& f = out.fields[out.count];
      f = JsonField{};
      bool nul = false;
      if (!r.at('"') || !r.string(f.key, sizeof f.key, &f.key_truncated, &nul) || !r.eat(':')) return JsonError::Syntax;
      if (nul) return JsonError::NulInKey;
      if (!readValue(r, f)) return r.tooDeep ? JsonError::TooDeep : JsonError::Syntax;
      ++out.count;
    } while (r.eat(','));
    if (!r.eat('}')) return JsonError::Syntax;
  }
  return r.done() ? JsonError::None : JsonError::Syntax;
}

const char* jsonErrorText(JsonError e) {
  switch (e) {
    case JsonError::None: return "ok";
    case JsonError::Syntax: return "payload is not valid JSON";
    case JsonError::NotObject: return "payload must be a JSON object";
    case JsonError::TooManyFields: return "payload has too many fields";
    case JsonError::TooDeep: return "payload is nested too deeply";
    case JsonError::NulInKey: return "payload has a key with \\u0000";
  }
  return "payload is invalid";
}

bool isSafeInteger(double v) {
  return std::isfinite(v) && std::floor(v) == v && std::fabs(v) <= 9007199254740992.0;
}

JsonWriter::JsonWriter(char* buf, size_t size) : buf_(buf), size_(size), len_(0), ok_(size > 1), first_(true) {
  put('{');
}

void JsonWriter::put(char c) {
  if (len_ + 1 < size_) buf_[len_++] = c;
  else ok_ = false;
}

void JsonWriter::raw(const char* s) {
  while (*s != '\0') put(*s++);
}

void JsonWriter::quoted(const char* s) {
  put('"');
  for (; *s != '\0'; ++s) {
    unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      put('\\');
      put(static_cast<char>(c));
    } else if (c < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      raw(esc);
    } else {
      put(static_cast<char>(c));
    }
  }
  put('"');
}

void JsonWriter::key(const char* k) {
  if (!first_) put(',');
  first_ = false;
  quoted(k);
  put(':');
}

JsonWriter& JsonWriter::str(const char* k, const char* value) {
  key(k);
  quoted(value);
  return *this;
}

JsonWriter& JsonWriter::integer(const char* k, int64_t value) {
  key(k);
  char tmp[24];
  std::snprintf(tmp, sizeof tmp, "%lld", static_cast<long long>(value));
  raw(tmp);
  return *this;
}

JsonWriter& JsonWriter::number(const char* k, double value) {
  key(k);
  if (!std::isfinite(value)) {
    raw("null");
    return *this;
  }
  // Epoch seconds to the millisecond, trailing zeros trimmed: 1673436080.5, not 1.6734360805e9.
  char tmp[40];
  std::snprintf(tmp, sizeof tmp, "%.3f", value);
  char* end = tmp + std::strlen(tmp);
  while (end > tmp && end[-1] == '0') *--end = '\0';
  if (end > tmp && end[-1] == '.') *--end = '\0';
  raw(tmp);
  return *this;
}

JsonWriter& JsonWriter::boolean(const char* k, bool value) {
  key(k);
  raw(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::null(const char* k) {
  key(k);
  raw("null");
  return *this;
}

JsonWriter& JsonWriter::object(const char* k) {
  key(k);
  put('{');
  first_ = true;
  return *this;
}

JsonWriter& JsonWriter::end() {
  put('}');
  first_ = false;
  return *this;
}

const char* JsonWriter::finish() {
  put('}');
  if (size_ > 0) buf_[len_ < size_ ? len_ : size_ - 1] = '\0';
  return ok_ ? buf_ : nullptr;
}

}  // namespace dc
