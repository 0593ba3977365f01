// Reconnect delays: exponential with "equal jitter" (half fixed, half random), so 300
// dispensers that lost the hub together do not all reconnect in the same instant.
#pragma once

#include <cstdint>

#include "ports.h"

namespace dc {

struct BackoffConfig {
  uint32_t base_ms = 1000;
  // Short enough that a dispenser is back soon after a hub restart (the hub then sends the
  // state the schedule requires), long enough that 300 of them do not hammer it.
  uint32_t max_ms = 30000;
};

class Backoff {
 public:
  explicit Backoff(const BackoffConfig& config) : config_(config) {}
  // Ceiling of the next delay: min(max_ms, base_ms * 2^attempts).
  uint32_t ceiling() const;
  // The next delay, in [c/2, c] with c = min(ceiling, cap_ms); counts one more attempt.
  uint32_t next(Random& random, uint32_t cap_ms = UINT32_MAX);
  void reset() { attempts_ = 0; }
  uint32_t attempts() const { return attempts_; }

 private:
  BackoffConfig config_;
  uint32_t attempts_ = 0;
};

}  // namespace dc
