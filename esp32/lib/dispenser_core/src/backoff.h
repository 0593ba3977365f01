// Reconnect delays: exponential with "equal jitter" (half fixed, half random), so 300
// dispensers that lost the hub together do not all reconnect in the same instant.
#pragma once

#include <cstdint>

#include "ports.h"

namespace dc {

struct BackoffConfig {
  uint32_t base_ms = 1000;
  uint32_t max_ms = 60000;
};

class Backoff {
 public:
  explicit Backoff(const BackoffConfig& config) : config_(config) {}
  // Ceiling of the next delay: min(max_ms, base_ms * 2^attempts).
  uint32_t ceiling() const;
  // The next delay, in [ceiling/2, ceiling]; counts one more attempt.
  uint32_t next(Random& random);
  void reset() { attempts_ = 0; }
  uint32_t attempts() const { return attempts_; }

 private:
  BackoffConfig config_;
  uint32_t attempts_ = 0;
};

}  // namespace dc
