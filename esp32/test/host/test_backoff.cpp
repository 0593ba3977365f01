#include <cstdint>

#include "backoff.h"
#include "fakes.h"
#include "mini_test.h"

TEST(backoff_doubles_up_to_the_cap_within_jitter_bounds) {
  const uint32_t ceilings[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
  fake::Random lo;  // always 0: the lower bound
  fake::Random hi;
  hi.values = {UINT32_MAX - 1};
  dc::Backoff a{dc::BackoffConfig{}};
  dc::Backoff b{dc::BackoffConfig{}};
  for (uint32_t c : ceilings) {
    CHECK_EQ(a.ceiling(), c);
    uint32_t low = a.next(lo);
    uint32_t high = b.next(hi);
    CHECK(low >= c / 2 && low <= c);
    CHECK(high >= c / 2 && high <= c);
    CHECK_EQ(low, c / 2);
  }
}

TEST(backoff_jitter_covers_the_whole_range) {
  // A spread of random values lands inside [c/2, c] and reaches both ends.
  struct Lcg : dc::Random {
    uint32_t s = 12345;
    uint32_t next() override { return s = s * 1664525u + 1013904223u; }
  } rng;
  uint32_t min = UINT32_MAX, max = 0;
  for (int i = 0; i < 5000; ++i) {
    dc::Backoff b{dc::BackoffConfig{}};
    b.next(rng);
    b.next(rng);
    uint32_t d = b.next(rng);  // third attempt: ceiling 4000
    if (d < min) min = d;
    if (d > max) max = d;
  }
  CHECK(min >= 2000);
  CHECK(max <= 4000);
  CHECK(min < 2050);
  CHECK(max > 3950);
}

TEST(backoff_cap_bounds_the_delay_but_keeps_counting) {
  fake::Random hi;
  hi.values = {UINT32_MAX - 1};
  dc::Backoff b{dc::BackoffConfig{}};
  for (int i = 0; i < 10; ++i) CHECK(b.next(hi, 5000) <= 5000);
  CHECK_EQ(b.attempts(), 10u);
  CHECK_EQ(b.ceiling(), 30000u);  // without the cap (the output went off) it is back to the long delay
  fake::Random lo;
  CHECK_EQ(b.next(lo, 5000), 2500u);  // jitter still applies: [cap/2, cap]
}

TEST(backoff_reset_starts_over) {
  fake::Random r;
  dc::Backoff b{dc::BackoffConfig{}};
  for (int i = 0; i < 5; ++i) b.next(r);
  b.reset();
  CHECK_EQ(b.ceiling(), 1000u);
  CHECK_EQ(b.attempts(), 0u);
}

TEST(backoff_survives_many_attempts_without_overflow) {
  fake::Random r;
  dc::BackoffConfig config;
  config.base_ms = 3000;
  config.max_ms = 4000000000u;
  dc::Backoff b{config};
  for (int i = 0; i < 100; ++i) CHECK(b.next(r) <= config.max_ms);
  CHECK_EQ(b.ceiling(), 4000000000u);
}
