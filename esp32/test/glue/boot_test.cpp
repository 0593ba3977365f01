// src/main.cpp (the Arduino glue) on the host, linked with the recording stand-ins
// (host/stubs/recorder.cpp): what setup() does to the relay pin, the watchdog and deadline-task
// wiring, the TWDT ISR path, and the Wi-Fi reconnect. Built once per relay polarity.
//   Defect 4: the relay was written before pinMode (ignored by arduino-esp32 3.x), then
//             driven "on" for low-triggered boards until begin().
//   Defect 2: the TWDT ISR handler must force the output off before the reset.
//   Defect 3: Wi-Fi must be begun again after a disconnect, whatever the reason.
#include <cstdio>
#include <string>

#include "config.h"
#include "esp_task_wdt.h"
#include "recorder.h"

void setup();
void loop();

namespace {
int checks = 0;
int failed = 0;
void check(bool ok, const std::string& what) {
  ++checks;
  if (!ok) {
    ++failed;
    std::printf("not ok - %s\n", what.c_str());
  }
}
int indexOf(const std::string& prefix) {
  for (size_t i = 0; i < recorder::calls.size(); ++i)
    if (recorder::calls[i].compare(0, prefix.size(), prefix) == 0) return static_cast<int>(i);
  return -1;
}
void deliver(const std::string& payload) {
  char topic[] = "external/machine/1";
  std::string copy = payload;
  recorder::mqtt_callback(topic, reinterpret_cast<uint8_t*>(&copy[0]), static_cast<unsigned>(copy.size()));
}
}  // namespace

int main() {
  const unsigned on = RELAY_ACTIVE_HIGH != 0 ? 1 : 0;
  const unsigned off = 1 - on;
  const std::string relay = "gpio_set_level " + std::to_string(PIN_RELAY) + " ";
  setup();

  // The first thing done to the relay pin is latching "off"; then it becomes an output, with
  // the pull towards "off"; "on" is never written during boot; no Arduino call touches it.
  check(recorder::calls.size() > 2 && recorder::calls[0] == relay + std::to_string(off), "setup() starts by latching the relay off: " + recorder::calls[0]);
  int config = indexOf("gpio_config mask=" + std::string(PIN_RELAY == 26 ? "4000000" : ""));
  check(config > 0, "the relay pin becomes an output after the level is set");
  const std::string pulls = off == 1 ? "pullup=1 pulldown=0" : "pullup=0 pulldown=1";
  check(config >= 0 && recorder::calls[static_cast<size_t>(config)].find("mode=2 " + pulls) != std::string::npos,
        "output mode with the pull towards off (" + pulls + ")");
  check(recorder::matching(relay + std::to_string(on)).empty(), "boot never writes the on level");
  check(recorder::matching("pinMode " + std::to_string(PIN_RELAY) + " ").empty() &&
            recorder::matching("digitalWrite " + std::to_string(PIN_RELAY) + " ").empty(),
        "no pinMode/digitalWrite on the relay pin (periman would ignore or reconfigure it)");

  // Watchdog: panics (resets) after WATCHDOG_TIMEOUT_MS, the loop task is subscribed, and the
  // independent deadline task runs at a priority above the loop's.
  check(recorder::wdt_panic && recorder::wdt_timeout_ms == WATCHDOG_TIMEOUT_MS, "TWDT reconfigured to panic after WATCHDOG_TIMEOUT_MS");
  check(!recorder::matching("wdt.add").empty(), "the loop task is subscribed to the TWDT");
  check(recorder::task_name == "deadline" && recorder::task_priority >= 20, "a high-priority deadline task is started");
  check(indexOf("serial {\"event\":\"boot\",\"reset_reason\":6") >= 0, "the boot line tells a watchdog reset");

  recorder::clear();
  loop();
  check(!recorder::matching("wdt.reset").empty(), "loop() feeds the watchdog");
  check(indexOf("WiFi.begin") >= 0, "loop() begins Wi-Fi at once");
  check(indexOf("mqtt.connect machine_001") >= 0, "and connects to the hub");

  // A control switches the relay on; the TWDT ISR path switches it off before the reset.
  recorder::clear();
  deliver(R"({"machine_id":1,"session_id":5,"status":"active","scheduled_until":1000060,"timestamp":1000000,"exchange_id":1})");
  check(recorder::matching(relay + std::to_string(on)).size() == 1, "an active control writes the on level");
  recorder::clear();
  esp_task_wdt_isr_user_handler();
  check(recorder::calls.size() == 1 && recorder::calls[0] == relay + std::to_string(off), "the TWDT ISR handler writes the off level, and only that");

  // Wi-Fi lost (reason 201, no AP found): begun again after the backoff, and counted.
  recorder::clear();
  arduino_event_info_t info = {};
  info.wifi_sta_disconnected.reason = 201;
  recorder::wifi_callback(ARDUINO_EVENT_WIFI_STA_DISCONNECTED, info);
  loop();
  check(indexOf("WiFi.begin") < 0, "not begun again at once (backoff)");
  recorder::now_us += 1'000'000;
  loop();
  check(indexOf("WiFi.disconnect") >= 0 && indexOf("WiFi.begin") > indexOf("WiFi.disconnect"), "begun again within the first backoff step");
  recorder::clear();
  deliver(R"({"request_type":"machine"})");
  int report = indexOf("mqtt.publish external/handler {\"machine_id\":1");
  check(report >= 0 && recorder::calls[static_cast<size_t>(report)].find("\"wifi_disconnects\":1,\"wifi_reasons\":{\"201\":1}") != std::string::npos,
        "the report counts the disconnect reason");

  if (failed > 0)
    for (const std::string& c : recorder::calls) std::printf("#   %s\n", c.c_str());
  std::printf("# glue boot (RELAY_ACTIVE_HIGH=%d): %d checks, %d failed\n", RELAY_ACTIVE_HIGH, checks, failed);
  return failed == 0 ? 0 : 1;
}
