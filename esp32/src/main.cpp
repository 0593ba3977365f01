// Arduino glue (thin): network, PubSubClient, pins, watchdog; every decision is in
// lib/dispenser_core, which is unit-tested on the host and runs there as host/virtual_dispenser.
// Written for arduino-esp32 3.x (ESP-IDF 5.x), the version platformio.ini pins.
//
// Three lines of defence keep the output from running unpaid:
//  1. the loop task: Dispenser::tick() reverts at the deadline (normal path);
//  2. the deadline task: a separate high-priority FreeRTOS task calls failsafePoll() every
//     10 ms, so a network call that blocks loop() (PubSubClient connect, a stuck TCP write)
//     cannot keep the output on past its deadline;
//  3. the task watchdog: loop() and the deadline task are subscribed; if either stops feeding
//     it for WATCHDOG_TIMEOUT_MS the TWDT ISR calls safeOff() (output off) and the chip panics
//     and resets. After the reset the pin is an input held off by the pull resistor, and
//     setup() drives "off" before the pin becomes an output.
#include <Arduino.h>
#include <PubSubClient.h>
#include <WiFi.h>
#include <driver/gpio.h>
#include <esp_system.h>
#include <esp_task_wdt.h>
#include <esp_timer.h>
#include <freertos/FreeRTOS.h>
#include <freertos/queue.h>
#include <freertos/task.h>

#include <cstdio>
#if DISPENSER_ETHERNET
#include <ETH.h>
#endif

#include "config.h"
#include "dispenser.h"
#include "wifi_link.h"

namespace {

struct EspClock : dc::Clock {
  // 64-bit microseconds since boot: monotonic, no 49-day millis() wrap.
  uint64_t nowMs() override { return static_cast<uint64_t>(esp_timer_get_time() / 1000); }
};

constexpr gpio_num_t kRelay = static_cast<gpio_num_t>(PIN_RELAY);
constexpr uint32_t kRelayOn = RELAY_ACTIVE_HIGH != 0 ? 1 : 0;
constexpr uint32_t kRelayOff = 1 - kRelayOn;

// gpio_set_level, not digitalWrite: it is safe from the deadline task and the watchdog ISR, and
// it works before the pin is an output (arduino-esp32 3.x ignores digitalWrite then).
struct RelayPin : dc::OutputPin {
  void set(bool on) override { gpio_set_level(kRelay, on ? kRelayOn : kRelayOff); }
};

// Boot: the level first, then the direction. The ESP32 latches the output level even while the
// pin is an input, so the moment it becomes an output it already drives "off": no pulse. The
// internal pull towards "off" adds to the external resistor (README: Wiring) until then.
void relayBootSafe() {
  gpio_set_level(kRelay, kRelayOff);
  gpio_config_t c = {};
  c.pin_bit_mask = 1ULL << PIN_RELAY;
  c.mode = GPIO_MODE_OUTPUT;
  c.pull_up_en = kRelayOff == 1 ? GPIO_PULLUP_ENABLE : GPIO_PULLUP_DISABLE;
  c.pull_down_en = kRelayOff == 0 ? GPIO_PULLDOWN_ENABLE : GPIO_PULLDOWN_DISABLE;
  c.intr_type = GPIO_INTR_DISABLE;
  gpio_config(&c);
  gpio_set_level(kRelay, kRelayOff);
}

struct UltrasonicSensor : dc::LevelSensor {
  bool readPercent(float& percent) override {
    digitalWrite(PIN_TRIG, LOW);
    delayMicroseconds(2);
    digitalWrite(PIN_TRIG, HIGH);
    delayMicroseconds(10);
    digitalWrite(PIN_TRIG, LOW);
    unsigned long echo_us = pulseIn(PIN_ECHO, HIGH, 30000);  // 30 ms: ~5 m, beyond any hopper
    if (echo_us == 0) return false;                          // no echo: keep the last level
    percent = dc::fillPercentFromDistance(static_cast<float>(echo_us) / 58.0f, LEVEL_EMPTY_CM, LEVEL_FULL_CM);
    return true;
  }
};

struct EspRandom : dc::Random {
  uint32_t next() override { return esp_random(); }
};

struct SerialLog : dc::EventLog {
  void line(const char* json) override { Serial.println(json); }
};

WiFiClient tcp;
PubSubClient mqtt(tcp);

#if !DISPENSER_ETHERNET
// Wi-Fi events arrive on the Arduino event task; they reach the loop through a queue, where
// the WifiLink (backoff, reason counts) decides when to begin again.
constexpr uint8_t kGotIp = 0xFF;  // not an IDF reason code
QueueHandle_t wifi_events = nullptr;
dc::WifiLink wifi_link;

void onWifiEvent(arduino_event_id_t event, arduino_event_info_t info) {
  uint8_t code = kGotIp;
  if (event == ARDUINO_EVENT_WIFI_STA_DISCONNECTED) code = info.wifi_sta_disconnected.reason;
  else if (event != ARDUINO_EVENT_WIFI_STA_GOT_IP) return;
  if (wifi_events != nullptr) xQueueSend(wifi_events, &code, 0);  // never blocks the event task
}
#endif

bool networkUp() {
#if DISPENSER_ETHERNET
  return ETH.linkUp() && static_cast<uint32_t>(ETH.localIP()) != 0;
#else
  return WiFi.status() == WL_CONNECTED;
#endif
}

struct Network : dc::MqttPort, dc::NetInfo {
  dc::ConnectResult connect(const dc::ConnectOptions& o) override {
    if (!networkUp()) return dc::ConnectResult::Failed;
    mqtt.setKeepAlive(o.keepalive_s);
    // No last will: the hub learns offline from the broker's own connection events (DESIGN §4).
    bool ok = mqtt.connect(o.client_id, o.username, o.password, nullptr, 0, false, nullptr, o.clean_session);
    if (!ok) Serial.printf("{\"event\":\"connect_failed\",\"state\":%d}\n", mqtt.state());
    return ok ? dc::ConnectResult::Connected : dc::ConnectResult::Failed;
  }
  bool subscribe(const char* topic) override { return mqtt.subscribe(topic, 1); }
  bool publish(const char* topic, const char* payload) override { return mqtt.publish(topic, payload); }
  bool ipAddress(char* buf, size_t n) override {
#if DISPENSER_ETHERNET
    String ip = ETH.localIP().toString();
#else
    String ip = WiFi.localIP().toString();
#endif
    std::snprintf(buf, n, "%s", ip.c_str());
    return networkUp();
  }
  bool rssi(int& dbm) override {
#if DISPENSER_ETHERNET
    (void)dbm;
    return false;
#else
    dbm = WiFi.RSSI();
    return networkUp();
#endif
  }
  void writeLinkStats(dc::JsonWriter& w) override {
#if DISPENSER_ETHERNET
    (void)w;
#else
    wifi_link.writeStats(w);
#endif
  }
};

EspClock clock_;
RelayPin relay;
UltrasonicSensor sensor;
EspRandom random_;
SerialLog log_;
Network network;

dc::DispenserConfig makeConfig() {
  dc::DispenserConfig c;
  c.machine_id = DISPENSER_MACHINE_ID;
  c.firmware = FIRMWARE_VERSION;
  c.username = DISPENSER_USERNAME;
  c.password = DISPENSER_SECRET;
  c.keepalive_s = 10;
  // PubSubClient blocks for the TCP connect (3 s) and the CONNACK (socket timeout below).
  c.connect_block_ms = 7000;
  return c;
}

dc::Dispenser dispenser(makeConfig(), dc::DispenserPorts{clock_, relay, sensor, network, network, random_, &log_});

void startNetwork() {
#if DISPENSER_ETHERNET
  ETH.begin();
#else
  wifi_events = xQueueCreate(16, sizeof(uint8_t));
  WiFi.onEvent(onWifiEvent);
  WiFi.mode(WIFI_STA);
  WiFi.setSleep(false);  // modem sleep adds hundreds of ms to every command
  // Our own reconnect (WifiLink): the driver's skips some reasons and never backs off.
  WiFi.setAutoReconnect(false);
#endif
}

#if !DISPENSER_ETHERNET
void serviceWifi() {
  uint64_t now = clock_.nowMs();
  uint8_t code = 0;
  while (xQueueReceive(wifi_events, &code, 0) == pdTRUE) {
    if (code == kGotIp) {
      wifi_link.onConnected(now);
    } else {
      wifi_link.onDisconnected(now, code);
      Serial.printf("{\"event\":\"wifi_down\",\"reason\":%u}\n", static_cast<unsigned>(code));
    }
  }
  if (wifi_link.dueBegin(now, random_)) {
    WiFi.disconnect();
    WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  }
}
#endif

// Line of defence 2: independent of loop() and the network.
void deadlineTask(void*) {
  esp_task_wdt_add(nullptr);
  for (;;) {
    dispenser.failsafePoll();  // the loop reverts its state and reports when it runs again
    esp_task_wdt_reset();
    vTaskDelay(pdMS_TO_TICKS(10));
  }
}

void startWatchdog() {
  // arduino-esp32 3.x starts the TWDT at boot; reconfigure it to panic (and so reset).
  esp_task_wdt_config_t wdt = {};
  wdt.timeout_ms = WATCHDOG_TIMEOUT_MS;
  wdt.idle_core_mask = 0;
  wdt.trigger_panic = true;
  if (esp_task_wdt_reconfigure(&wdt) != ESP_OK) esp_task_wdt_init(&wdt);
  esp_task_wdt_add(nullptr);  // the loop task (setup() runs on it)
}

}  // namespace

// Line of defence 3: ESP-IDF calls this from the TWDT interrupt before the panic handler
// resets the chip. Only atomics and gpio_set_level: safe in an ISR.
extern "C" void esp_task_wdt_isr_user_handler(void) { dispenser.safeOff(); }

void setup() {
  relayBootSafe();  // first thing: a reboot never pulses the dispenser
  pinMode(PIN_TRIG, OUTPUT);
  pinMode(PIN_ECHO, INPUT);
  Serial.begin(115200);
  Serial.printf("{\"event\":\"boot\",\"reset_reason\":%d,\"max_on_s\":%lu}\n", static_cast<int>(esp_reset_reason()),
                static_cast<unsigned long>(dc::kMaxOnSeconds));
  startWatchdog();
  startNetwork();
  mqtt.setServer(HUB_HOST, HUB_PORT);
  mqtt.setBufferSize(512);
  mqtt.setSocketTimeout(3);
  mqtt.setCallback([](char* topic, uint8_t* payload, unsigned int length) {
    dispenser.onMessage(topic, reinterpret_cast<const char*>(payload), length);
  });
  dispenser.begin();
  xTaskCreate(deadlineTask, "deadline", 2048, nullptr, configMAX_PRIORITIES - 2, nullptr);
}

void loop() {
  esp_task_wdt_reset();
#if !DISPENSER_ETHERNET
  serviceWifi();
#endif
  if (dispenser.link() == dc::LinkState::Connected && !mqtt.connected()) dispenser.onDisconnected();
  mqtt.loop();
  dispenser.tick();
  delay(5);
}
