// Over-the-air updates (issue 16), mirroring src/protocol/fleet.ts FirmwareUpdate / OtaStatus.
// Pure decisions only: what the update command says, whether the downloaded image is the one
// the hub meant (size and SHA-256, checked as it streams), and after the reboot into the new
// slot whether to mark it valid or let the bootloader roll back. The glue does the I/O
// (HTTP download, Update / esp_ota_* on the ESP32, a simulated slot on the host).
#pragma once

#include <cstddef>
#include <cstdint>

#include "json.h"
#include "sha256.h"

namespace dc {

struct UpdateCommand {
  char version[33];
  char url[JsonField::kMaxString];
  char sha256[65];
  uint32_t size;
};

// Reads an Update (protocol.h InboundKind::Update) from its parse; false with "field: problem"
// in message. Only http:// URLs (the hub on the dispenser network); at most max_size bytes.
bool decodeUpdate(const JsonObject& o, uint32_t max_size, UpdateCommand& out, char* message, size_t n);

enum class VerifyResult : uint8_t { Ok, TooBig, SizeMismatch, HashMismatch };
const char* verifyResultText(VerifyResult r);

// Hashes and counts the image as it is written to the inactive slot.
class OtaVerifier {
 public:
  explicit OtaVerifier(const UpdateCommand& command) : command_(command) {}
  // False once more bytes than announced arrived: stop writing, the image is not the hub's.
  bool feed(const uint8_t* data, size_t len);
  VerifyResult finish();
  uint32_t received() const { return received_; }

 private:
  UpdateCommand command_;
  Sha256 hash_;
  uint32_t received_ = 0;
  bool too_big_ = false;
};

// After booting a new image: healthy (connected to the hub and reported) within timeout_ms ->
// mark it valid; else roll back to the previous slot. Not pending (a normal boot): nothing to do.
enum class BootDecision : uint8_t { Nothing, Wait, MarkValid, RollBack };

class BootCheck {
 public:
  BootCheck(bool pending_verify, uint64_t boot_ms, uint32_t timeout_ms) : pending_(pending_verify), boot_ms_(boot_ms), timeout_ms_(timeout_ms) {}
  void onHealthy() { healthy_ = true; }
  // Called from the loop; returns MarkValid or RollBack once, then Nothing.
  BootDecision decide(uint64_t now_ms);

 private:
  bool pending_;
  uint64_t boot_ms_;
  uint32_t timeout_ms_;
  bool healthy_ = false;
};

}  // namespace dc
