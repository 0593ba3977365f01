#include "ota.h"

#include <cstdio>
#include <cstring>

namespace dc {

namespace {
bool cleanString(const JsonObject& o, const char* key, const JsonField*& out) {
  out = o.find(key);
  return out != nullptr && out->type == JsonType::String && !out->str_truncated && !out->has_nul && out->str[0] != '\0';
}
bool isLowerHex(const char* s, size_t n) {
  if (std::strlen(s) != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}
}  // namespace

bool decodeUpdate(const JsonObject& o, uint32_t max_size, UpdateCommand& out, char* message, size_t n) {
  std::memset(&out, 0, sizeof out);
  const JsonField* f = nullptr;
  if (!cleanString(o, "version", f) || std::strlen(f->str) >= sizeof out.version) return std::snprintf(message, n, "version: must be a string of 1..32"), false;
  std::memcpy(out.version, f->str, std::strlen(f->str) + 1);  // length checked above
  if (!cleanString(o, "url", f) || std::strncmp(f->str, "http://", 7) != 0) return std::snprintf(message, n, "url: must be an http:// URL"), false;
  std::snprintf(out.url, sizeof out.url, "%s", f->str);
  if (!cleanString(o, "sha256", f) || !isLowerHex(f->str, 64)) return std::snprintf(message, n, "sha256: must be 64 lowercase hex digits"), false;
  std::memcpy(out.sha256, f->str, 65);  // 64 hex + NUL, checked above
  const JsonField* size = o.find("size");
  if (size == nullptr || size->type != JsonType::Number || !isSafeInteger(size->number) || size->number < 1) return std::snprintf(message, n, "size: must be a whole number of bytes"), false;
  if (size->number > max_size) return std::snprintf(message, n, "size: larger than this device's OTA slot (%lu bytes)", static_cast<unsigned long>(max_size)), false;
  out.size = static_cast<uint32_t>(size->number);
  return true;
}

const char* verifyResultText(VerifyResult r) {
  switch (r) {
    case VerifyResult::Ok: return "ok";
    case VerifyResult::TooBig: return "the image is larger than announced";
    case VerifyResult::SizeMismatch: return "the image is shorter than announced";
    case VerifyResult::HashMismatch: return "sha256 does not match";
  }
  return "?";
}

bool OtaVerifier::feed(const uint8_t* data, size_t len) {
  if (too_big_ || len > command_.size - received_) {
    too_big_ = true;
    return false;
  }
  hash_.update(data, len);
  received_ += static_cast<uint32_t>(len);
  return true;
}

VerifyResult OtaVerifier::finish() {
  if (too_big_) return VerifyResult::TooBig;
  if (received_ != command_.size) return VerifyResult::SizeMismatch;
  char hex[65];
  hash_.finishHex(hex);
  return std::strcmp(hex, command_.sha256) == 0 ? VerifyResult::Ok : VerifyResult::HashMismatch;
}

BootDecision BootCheck::decide(uint64_t now_ms) {
  if (!pending_) return BootDecision::Nothing;
  if (healthy_) {
    pending_ = false;
    return BootDecision::MarkValid;
  }
  if (now_ms - boot_ms_ >= timeout_ms_) {
    pending_ = false;
    return BootDecision::RollBack;
  }
  return BootDecision::Wait;
}

}  // namespace dc
