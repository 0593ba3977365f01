#include "backoff.h"

namespace dc {

uint32_t Backoff::ceiling() const {
  uint64_t c = config_.base_ms;
  for (uint32_t i = 0; i < attempts_ && c < config_.max_ms; ++i) c *= 2;
  return c > config_.max_ms ? config_.max_ms : static_cast<uint32_t>(c);
}

uint32_t Backoff::next(Random& random, uint32_t cap_ms) {
  uint32_t c = ceiling();
  if (c > cap_ms) c = cap_ms;
  uint32_t half = c / 2;
  uint32_t span = c - half;  // random part, so the result stays within [half, c]
  uint32_t delay = half + (span == 0 ? 0 : random.next() % (span + 1));
  if (attempts_ < 32) ++attempts_;
  return delay;
}

}  // namespace dc
