#include "ball_level.h"

namespace dc {

float fillPercentFromDistance(float distance_cm, float empty_cm, float full_cm) {
  float span = empty_cm - full_cm;
  if (span <= 0.0f) return 0.0f;
  float pct = (empty_cm - distance_cm) / span * 100.0f;
  if (pct < 0.0f) return 0.0f;
  if (pct > 100.0f) return 100.0f;
  return pct;
}

BallLevel LevelFilter::classify(float percent) const {
  int level = 0;
  for (int i = 0; i < 4; ++i) {
    if (percent >= config_.lower_bound[i]) level = i + 1;
  }
  return static_cast<BallLevel>(level);
}

float LevelFilter::lowerBound(BallLevel level) const {
  int i = static_cast<int>(level);
  return i == 0 ? 0.0f : config_.lower_bound[i - 1];
}

float LevelFilter::upperBound(BallLevel level) const {
  int i = static_cast<int>(level);
  return i >= 4 ? 1000.0f : config_.lower_bound[i];
}

BallLevel LevelFilter::update(float percent) {
  BallLevel raw = classify(percent);
  if (!known_) {
    known_ = true;
    level_ = raw;
    return level_;
  }
  const float h = config_.hysteresis;
  if (raw > level_) {
    // Up only once clearly inside the new band; else stop one band short (still above current).
    BallLevel target = raw;
    if (percent < lowerBound(raw) + h) target = static_cast<BallLevel>(static_cast<int>(raw) - 1);
    if (target > level_) level_ = target;
  } else if (raw < level_) {
    BallLevel target = raw;
    if (percent >= upperBound(raw) - h) target = static_cast<BallLevel>(static_cast<int>(raw) + 1);
    if (target < level_) level_ = target;
  }
  return level_;
}

}  // namespace dc
