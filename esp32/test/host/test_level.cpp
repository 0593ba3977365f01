#include "ball_level.h"
#include "mini_test.h"

using dc::BallLevel;

static const char* name(BallLevel l) { return dc::ballLevelName(l); }

TEST(level_first_reading_classifies_directly) {
  struct Case {
    float pct;
    const char* level;
  };
  const Case cases[] = {{0, "empty"}, {4.9f, "empty"}, {5, "urgent"}, {15, "low"}, {34, "low"}, {35, "medium"}, {70, "full"}, {100, "full"}};
  for (const Case& c : cases) {
    dc::LevelFilter f{dc::LevelConfig{}};
    CHECK_EQ(name(f.update(c.pct)), c.level);
  }
}

TEST(level_does_not_flap_near_a_threshold) {
  dc::LevelFilter f{dc::LevelConfig{}};
  CHECK_EQ(name(f.update(36)), "medium");
  // A noisy reading around the 35 % boundary (within the 3 % hysteresis) never changes the level.
  const float noise[] = {34.9f, 35.1f, 33.0f, 36.5f, 32.1f, 37.9f, 34.0f, 35.0f};
  for (int round = 0; round < 10; ++round) {
    for (float pct : noise) CHECK_EQ(name(f.update(pct)), "medium");
  }
  CHECK_EQ(name(f.update(31.9f)), "low");
  for (float pct : noise) CHECK_EQ(name(f.update(pct)), "low");
  CHECK_EQ(name(f.update(38.0f)), "medium");
}

TEST(level_jumps_several_levels_on_a_big_change) {
  dc::LevelFilter f{dc::LevelConfig{}};
  f.update(90);
  CHECK_EQ(name(f.update(1)), "empty");  // hopper emptied (or sensor moved): no stepping through
  CHECK_EQ(name(f.update(95)), "full");  // refilled
  // A fall deep into a lower band lands there at once.
  CHECK_EQ(name(f.update(16)), "low");
}

TEST(level_fill_from_distance) {
  // Sensor 10 cm above the balls when full, 60 cm above the bottom when empty.
  CHECK_EQ(dc::fillPercentFromDistance(10, 60, 10), 100.0f);
  CHECK_EQ(dc::fillPercentFromDistance(60, 60, 10), 0.0f);
  CHECK_EQ(dc::fillPercentFromDistance(35, 60, 10), 50.0f);
  CHECK_EQ(dc::fillPercentFromDistance(5, 60, 10), 100.0f);   // closer than full: clamped
  CHECK_EQ(dc::fillPercentFromDistance(80, 60, 10), 0.0f);    // beyond the bottom: clamped
  CHECK_EQ(dc::fillPercentFromDistance(30, 10, 60), 0.0f);    // misconfigured: empty, never "full"
}
