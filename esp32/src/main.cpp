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

#include <new>

#include "config.h"
#include "dispenser.h"
#include "wifi_link.h"

#if DISPENSER_GENERIC
// The generic image (issue 16): one build for every bay. With no bay in NVS it enrolls
// (enrollment.h) with the hub's shared enrollment secret; the bay and its secret the hub assigns
// are kept in NVS. Over-the-air updates go to the inactive slot (Update), and after booting a
// new image the app keeps it only once it reached the hub (esp_ota_* rollback, ota.h BootCheck).
#include <HTTPClient.h>
#include <Preferences.h>
#include <Update.h>
#include <esp_ota_ops.h>

#include "enrollment.h"
#include "ota.h"
#endif

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

#if DISPENSER_GENERIC
Preferences prefs;
constexpr const char* kNvsNamespace = "dispenser";

// NVS: the bay the hub assigned, and the version a failed boot rolled back from (to report it).
struct NvsCredentials : dc::CredentialStore {
  bool load(dc::BayCredentials& out) override {
    if (!prefs.begin(kNvsNamespace, true)) return false;
    out.machine_id = prefs.getInt("machine_id", 0);
    bool ok = out.machine_id >= 1 && out.machine_id <= dc::kMaxMachineId && prefs.getString("username", out.username, sizeof out.username) > 0 &&
              prefs.getString("secret", out.secret, sizeof out.secret) > 0;
    prefs.end();
    return ok;
  }
  bool save(const dc::BayCredentials& c) override {
    if (!prefs.begin(kNvsNamespace, false)) return false;
    bool ok = prefs.putInt("machine_id", c.machine_id) > 0 && prefs.putString("username", c.username) > 0 && prefs.putString("secret", c.secret) > 0;
    prefs.end();
    return ok;
  }
};

struct StatusLedPin : dc::StatusLed {
  void set(bool on) override { digitalWrite(PIN_STATUS_LED, on ? HIGH : LOW); }
};

NvsCredentials nvs;
StatusLedPin status_led;
dc::BayCredentials bay{};
bool adopted = false;
char mac[dc::kMacLength + 1] = "";
#endif

dc::DispenserConfig makeConfig() {
  dc::DispenserConfig c;
  c.machine_id = DISPENSER_MACHINE_ID;
  c.firmware = FIRMWARE_VERSION;
  c.username = DISPENSER_USERNAME;
  c.password = DISPENSER_SECRET;
#if DISPENSER_GENERIC
  if (adopted) {
    c.machine_id = bay.machine_id;
    c.username = bay.username;
    c.password = bay.secret;
  }
#endif
  c.keepalive_s = 10;
  // PubSubClient blocks for the TCP connect (3 s) and the CONNACK (socket timeout below).
  c.connect_block_ms = 7000;
  return c;
}

// Built in setup(): the generic image learns its bay from NVS first. Until then the deadline task
// and the watchdog ISR see nullptr (the relay is off: relayBootSafe() ran first).
alignas(dc::Dispenser) unsigned char dispenser_storage[sizeof(dc::Dispenser)];
dc::Dispenser* volatile dispenser = nullptr;

#if DISPENSER_GENERIC
alignas(dc::Enroller) unsigned char enroller_storage[sizeof(dc::Enroller)];
dc::Enroller* enroller = nullptr;

// Downloads into the inactive OTA slot, checking size and SHA-256 as it streams (ota.h); a
// mismatch aborts the slot, so the running image stays. Runs from loop() (the deadline task
// and the watchdog keep running; the download feeds the watchdog).
struct EspUpdater : dc::Updater {
  bool pending = false;
  dc::UpdateCommand command{};
  void request(const dc::UpdateCommand& c) override {
    command = c;
    pending = true;
  }
  void run() {
    pending = false;
    HTTPClient http;
    http.setTimeout(10000);
    if (!http.begin(command.url) || http.GET() != HTTP_CODE_OK) {
      http.end();
      return dispenser->publishOta("failed", command.version, "download: the hub did not serve the image");
    }
    if (!Update.begin(command.size)) {
      http.end();
      return dispenser->publishOta("refused", command.version, "no room in the inactive OTA slot");
    }
    dc::OtaVerifier verifier(command);
    WiFiClient* stream = http.getStreamPtr();
    uint8_t buf[1024];
    uint32_t idle_ms = 0;
    bool fits = true;
    while (fits && http.connected() && verifier.received() < command.size && idle_ms < 10000) {
      esp_task_wdt_reset();
      int n = stream->available() > 0 ? stream->read(buf, sizeof buf) : 0;
      if (n <= 0) {
        delay(5);
        idle_ms += 5;
        continue;
      }
      idle_ms = 0;
      fits = verifier.feed(buf, static_cast<size_t>(n)) && Update.write(buf, static_cast<size_t>(n)) == static_cast<size_t>(n);
    }
    http.end();
    dc::VerifyResult result = verifier.finish();
    if (result != dc::VerifyResult::Ok || Update.hasError()) {
      Update.abort();
      return dispenser->publishOta("refused", command.version, result != dc::VerifyResult::Ok ? dc::verifyResultText(result) : "flash write failed");
    }
    if (!Update.end(true)) return dispenser->publishOta("failed", command.version, "the new slot could not be made bootable");
    Serial.printf("{\"event\":\"ota_installed\",\"version\":\"%s\"}\n", command.version);
    ESP.restart();  // into the new slot, pending verify
  }
};

EspUpdater updater;
dc::BootCheck* boot_check = nullptr;
alignas(dc::BootCheck) unsigned char boot_check_storage[sizeof(dc::BootCheck)];
char rolled_back_from[33] = "";
constexpr uint32_t kBootHealthyMs = 60000;  // the new image must reach the hub within this

// The Arduino core marks a new image valid at boot unless the app takes that decision itself.
extern "C" bool verifyRollbackLater() { return true; }

void startBootCheck() {
  esp_ota_img_states_t state = ESP_OTA_IMG_UNDEFINED;
  bool pending = esp_ota_get_state_partition(esp_ota_get_running_partition(), &state) == ESP_OK && state == ESP_OTA_IMG_PENDING_VERIFY;
  boot_check = new (boot_check_storage) dc::BootCheck(pending, clock_.nowMs(), kBootHealthyMs);
  if (prefs.begin(kNvsNamespace, false)) {
    prefs.getString("rolled_back", rolled_back_from, sizeof rolled_back_from);
    prefs.remove("rolled_back");
    prefs.end();
  }
}

void serviceBootCheck() {
  if (dispenser->link() == dc::LinkState::Connected) {
    boot_check->onHealthy();
    if (rolled_back_from[0] != '\0') {
      dispenser->publishOta("rolled_back", rolled_back_from, "the new image did not come up healthy");
      rolled_back_from[0] = '\0';
    }
  }
  switch (boot_check->decide(clock_.nowMs())) {
    case dc::BootDecision::MarkValid: esp_ota_mark_app_valid_cancel_rollback(); break;
    case dc::BootDecision::RollBack:
      if (prefs.begin(kNvsNamespace, false)) {
        prefs.putString("rolled_back", FIRMWARE_VERSION);
        prefs.end();
      }
      esp_ota_mark_app_invalid_rollback_and_reboot();
      break;
    default: break;
  }
}
#endif

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
    if (dispenser != nullptr) dispenser->failsafePoll();  // the loop reverts its state and reports when it runs again
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
extern "C" void esp_task_wdt_isr_user_handler(void) {
  if (dispenser != nullptr) dispenser->safeOff();
}

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
#if DISPENSER_GENERIC
  pinMode(PIN_STATUS_LED, OUTPUT);
  adopted = nvs.load(bay);
#if DISPENSER_ETHERNET
  String hw = ETH.macAddress();
#else
  String hw = WiFi.macAddress();
#endif
  dc::normalizeMac(hw.c_str(), mac);
#endif
  mqtt.setCallback([](char* topic, uint8_t* payload, unsigned int length) {
#if DISPENSER_GENERIC
    if (enroller != nullptr) return enroller->onMessage(topic, reinterpret_cast<const char*>(payload), length);
#endif
    dispenser->onMessage(topic, reinterpret_cast<const char*>(payload), length);
  });
#if DISPENSER_GENERIC
  if (!adopted) {
    dc::EnrollConfig ec;
    ec.mac = mac;
    ec.firmware = FIRMWARE_VERSION;
    ec.secret = DISPENSER_ENROLL_SECRET;
    enroller = new (enroller_storage) dc::Enroller(ec, dc::EnrollPorts{clock_, network, network, random_, status_led, nvs, &log_});
    enroller->begin();
    return;  // no dispenser, no relay task: an unadopted device never dispenses
  }
#endif
  dispenser = new (dispenser_storage) dc::Dispenser(makeConfig(), dc::DispenserPorts{clock_, relay, sensor, network, network, random_, &log_});
#if DISPENSER_GENERIC
  dispenser->setUpdater(&updater);
  startBootCheck();
#endif
  dispenser->begin();
  xTaskCreate(deadlineTask, "deadline", 2048, nullptr, configMAX_PRIORITIES - 2, nullptr);
}

void loop() {
  esp_task_wdt_reset();
#if !DISPENSER_ETHERNET
  serviceWifi();
#endif
#if DISPENSER_GENERIC
  if (enroller != nullptr) {
    if (!mqtt.connected()) enroller->onDisconnected();
    mqtt.loop();
    enroller->tick();
    if (enroller->adopted()) ESP.restart();  // as machine_N, from NVS
    delay(5);
    return;
  }
#endif
  if (dispenser->link() == dc::LinkState::Connected && !mqtt.connected()) dispenser->onDisconnected();
  mqtt.loop();
  dispenser->tick();
#if DISPENSER_GENERIC
  serviceBootCheck();
  if (updater.pending) updater.run();
#endif
  delay(5);
}
