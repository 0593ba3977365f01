// SHA-256 (FIPS 180-4), incremental, no heap: the firmware checks a downloaded image against the
// hash the hub sent before it marks the new OTA slot bootable (issue 16). On the ESP32 mbedtls
// would do; this one is the same on the host, so the tests cover the code that decides.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dc {

class Sha256 {
 public:
  Sha256();
  void update(const uint8_t* data, size_t len);
  void finish(uint8_t out[32]);
  // Lowercase hex of the digest into out (65 bytes with the NUL).
  void finishHex(char out[65]);

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

}  // namespace dc
