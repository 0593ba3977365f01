// Ball level from a fill percentage, with hysteresis so a reading that hovers around a
// threshold does not flap between two levels (each flap would be a report and an alert).
#pragma once

#include "protocol.h"

namespace dc {

struct LevelConfig {
  // Lowest fill percentage of urgent, low, medium, full (below the first is empty).
  float lower_bound[4] = {5.0f, 15.0f, 35.0f, 70.0f};
  // A level changes only when the reading passes its boundary by this much.
  float hysteresis = 3.0f;
};

// Fill percentage of a hopper measured from the top by a distance sensor (ultrasonic/IR):
// `empty_cm` is the distance to the bottom, `full_cm` the distance when full. Clamped to 0..100.
float fillPercentFromDistance(float distance_cm, float empty_cm, float full_cm);

class LevelFilter {
 public:
  explicit LevelFilter(const LevelConfig& config) : config_(config) {}
  // Feeds one reading; returns the (possibly unchanged) level.
  BallLevel update(float percent);
  BallLevel level() const { return level_; }
  bool known() const { return known_; }

 private:
  BallLevel classify(float percent) const;
  float lowerBound(BallLevel level) const;  // 0 for Empty
  float upperBound(BallLevel level) const;  // above 100 for Full
  LevelConfig config_;
  BallLevel level_ = BallLevel::Empty;
  bool known_ = false;
};

}  // namespace dc
