// What the recording stand-ins (recorder.cpp) saw: every hardware-facing call of the glue as
// one line ("gpio_set_level 26 0", "pinMode 5 3"), plus the callbacks it registered, so the
// boot test can drive src/main.cpp's setup() and loop() on the host.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "WiFi.h"

namespace recorder {
extern std::vector<std::string> calls;
extern int64_t now_us;  // esp_timer_get_time()
extern std::function<void(char*, uint8_t*, unsigned int)> mqtt_callback;
extern WiFiEventFuncCb wifi_callback;
extern int task_priority;  // xTaskCreate's, -1 when none was created
extern std::string task_name;
extern uint32_t wdt_timeout_ms;
extern bool wdt_panic;
extern bool mqtt_connected;
void clear();
// The calls whose text starts with `prefix`.
std::vector<std::string> matching(const std::string& prefix);
}  // namespace recorder
