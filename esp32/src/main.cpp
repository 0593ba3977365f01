// Arduino glue (thin): network, PubSubClient, pins; every decision is in lib/dispenser_core,
// which is unit-tested on the host and runs there as host/virtual_dispenser.
#include <Arduino.h>
#include <PubSubClient.h>
#include <WiFi.h>
#include <esp_timer.h>

#include <cstdio>
#if DISPENSER_ETHERNET
#include <ETH.h>
#endif

#include "config.h"
#include "dispenser.h"

namespace {

struct EspClock : dc::Clock {
  // 64-bit microseconds since boot: monotonic, no 49-day millis() wrap.
  uint64_t nowMs() override { return static_cast<uint64_t>(esp_timer_get_time() / 1000); }
};

struct RelayPin : dc::OutputPin {
  void set(bool on) override { digitalWrite(PIN_RELAY, on == (RELAY_ACTIVE_HIGH != 0) ? HIGH : LOW); }
};

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
  WiFi.mode(WIFI_STA);
  WiFi.setSleep(false);  // modem sleep adds hundreds of ms to every command
  WiFi.setAutoReconnect(true);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
#endif
}

}  // namespace

void setup() {
  // Relay off before the pin becomes an output, so boot never pulses the dispenser.
  digitalWrite(PIN_RELAY, RELAY_ACTIVE_HIGH != 0 ? LOW : HIGH);
  pinMode(PIN_RELAY, OUTPUT);
  pinMode(PIN_TRIG, OUTPUT);
  pinMode(PIN_ECHO, INPUT);
  Serial.begin(115200);
  startNetwork();
  mqtt.setServer(HUB_HOST, HUB_PORT);
  mqtt.setBufferSize(512);
  mqtt.setSocketTimeout(3);
  mqtt.setCallback([](char* topic, uint8_t* payload, unsigned int length) {
    dispenser.onMessage(topic, reinterpret_cast<const char*>(payload), length);
  });
  dispenser.begin();
}

void loop() {
  if (dispenser.link() == dc::LinkState::Connected && !mqtt.connected()) dispenser.onDisconnected();
  mqtt.loop();
  dispenser.tick();
  delay(5);
}
