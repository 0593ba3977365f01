// Host stand-in for ESP-IDF's esp_timer.h: microseconds since boot, 64-bit, monotonic.
#pragma once

#include <cstdint>

int64_t esp_timer_get_time();
