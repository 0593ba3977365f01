// Recording definitions of the stand-in headers (Arduino, WiFi, PubSubClient, ESP-IDF,
// FreeRTOS) for the host boot test of src/main.cpp. Nothing here decides anything.
#include "recorder.h"

#include <cstdarg>
#include <cstdio>
#include <deque>

#include "Arduino.h"
#include "PubSubClient.h"
#include "WiFi.h"
#include "driver/gpio.h"
#include "esp_system.h"
#include "esp_task_wdt.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "freertos/task.h"

namespace recorder {
std::vector<std::string> calls;
int64_t now_us = 1'000'000;
std::function<void(char*, uint8_t*, unsigned int)> mqtt_callback;
WiFiEventFuncCb wifi_callback;
int task_priority = -1;
std::string task_name;
uint32_t wdt_timeout_ms = 0;
bool wdt_panic = false;
bool mqtt_connected = false;
void clear() { calls.clear(); }
std::vector<std::string> matching(const std::string& prefix) {
  std::vector<std::string> out;
  for (const std::string& c : calls)
    if (c.compare(0, prefix.size(), prefix) == 0) out.push_back(c);
  return out;
}
void rec(const char* format, ...) __attribute__((format(printf, 1, 2)));
void rec(const char* format, ...) {
  char buf[640];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  calls.emplace_back(buf);
}
}  // namespace recorder

using recorder::rec;

// Arduino core
void pinMode(uint8_t pin, uint8_t mode) { rec("pinMode %u %u", pin, mode); }
void digitalWrite(uint8_t pin, uint8_t val) { rec("digitalWrite %u %u", pin, val); }
int digitalRead(uint8_t) { return 0; }
unsigned long pulseIn(uint8_t, uint8_t, unsigned long) { return 1160; }  // 20 cm
void delay(uint32_t) {}
void delayMicroseconds(uint32_t) {}
unsigned long millis() { return static_cast<unsigned long>(recorder::now_us / 1000); }
uint32_t esp_random() { return 0; }
IPAddress::IPAddress(uint8_t, uint8_t, uint8_t, uint8_t) {}
String IPAddress::toString() const { return String("192.168.4.50"); }
IPAddress::operator uint32_t() const { return 0x3204a8c0; }
size_t Print::print(const char* s) { return std::strlen(s); }
size_t Print::println(const char* s) {
  rec("serial %s", s);
  return std::strlen(s) + 1;
}
size_t Print::printf(const char* format, ...) {
  char buf[256];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  rec("serial %s", buf);
  return n < 0 ? 0 : static_cast<size_t>(n);
}
void HardwareSerial::begin(unsigned long) { rec("Serial.begin"); }
HardwareSerial Serial;

// WiFi
bool WiFiClass::mode(wifi_mode_t m) {
  rec("WiFi.mode %d", static_cast<int>(m));
  return true;
}
wl_status_t WiFiClass::begin(const char* ssid, const char*) {
  rec("WiFi.begin %s", ssid);
  return WL_DISCONNECTED;
}
bool WiFiClass::disconnect(bool, bool, unsigned long) {
  rec("WiFi.disconnect");
  return true;
}
wifi_event_id_t WiFiClass::onEvent(WiFiEventFuncCb cb, arduino_event_id_t) {
  recorder::wifi_callback = cb;
  return 1;
}
wl_status_t WiFiClass::status() { return WL_CONNECTED; }
bool WiFiClass::setAutoReconnect(bool on) {
  rec("WiFi.setAutoReconnect %d", on ? 1 : 0);
  return true;
}
bool WiFiClass::setSleep(bool) { return true; }
bool WiFiClass::setHostname(const char*) { return true; }
IPAddress WiFiClass::localIP() { return IPAddress(); }
int8_t WiFiClass::RSSI() { return -60; }
WiFiClass WiFi;
int WiFiClient::connect(const char*, uint16_t) { return 1; }
uint8_t WiFiClient::connected() { return 1; }
void WiFiClient::stop() {}
int WiFiClient::setNoDelay(bool) { return 0; }

// PubSubClient
PubSubClient::PubSubClient(Client&) {}
PubSubClient& PubSubClient::setServer(const char*, uint16_t) { return *this; }
PubSubClient& PubSubClient::setCallback(std::function<void(char*, uint8_t*, unsigned int)> cb) {
  recorder::mqtt_callback = cb;
  return *this;
}
PubSubClient& PubSubClient::setKeepAlive(uint16_t) { return *this; }
PubSubClient& PubSubClient::setSocketTimeout(uint16_t) { return *this; }
boolean PubSubClient::setBufferSize(uint16_t) { return true; }
boolean PubSubClient::connect(const char* id, const char*, const char*, const char*, uint8_t, boolean, const char*, boolean) {
  rec("mqtt.connect %s", id);
  recorder::mqtt_connected = true;
  return true;
}
void PubSubClient::disconnect() {}
boolean PubSubClient::publish(const char* topic, const char* payload) {
  rec("mqtt.publish %s %s", topic, payload);
  return true;
}
boolean PubSubClient::subscribe(const char* topic, uint8_t) {
  rec("mqtt.subscribe %s", topic);
  return true;
}
boolean PubSubClient::loop() { return recorder::mqtt_connected; }
boolean PubSubClient::connected() { return recorder::mqtt_connected; }
int PubSubClient::state() { return 0; }

// ESP-IDF
int64_t esp_timer_get_time() { return recorder::now_us; }
esp_err_t gpio_set_level(gpio_num_t gpio, uint32_t level) {
  rec("gpio_set_level %d %u", static_cast<int>(gpio), level);
  return ESP_OK;
}
esp_err_t gpio_config(const gpio_config_t* c) {
  rec("gpio_config mask=%llx mode=%d pullup=%d pulldown=%d", static_cast<unsigned long long>(c->pin_bit_mask), static_cast<int>(c->mode),
      static_cast<int>(c->pull_up_en), static_cast<int>(c->pull_down_en));
  return ESP_OK;
}
esp_reset_reason_t esp_reset_reason(void) { return ESP_RST_TASK_WDT; }
esp_err_t esp_task_wdt_init(const esp_task_wdt_config_t* c) {
  recorder::wdt_timeout_ms = c->timeout_ms;
  recorder::wdt_panic = c->trigger_panic;
  return ESP_OK;
}
esp_err_t esp_task_wdt_reconfigure(const esp_task_wdt_config_t* c) {
  rec("wdt.reconfigure %u panic=%d", c->timeout_ms, c->trigger_panic ? 1 : 0);
  return esp_task_wdt_init(c);
}
esp_err_t esp_task_wdt_add(TaskHandle_t) {
  rec("wdt.add");
  return ESP_OK;
}
esp_err_t esp_task_wdt_reset(void) {
  rec("wdt.reset");
  return ESP_OK;
}

// FreeRTOS: one queue of bytes is all the glue uses.
namespace {
std::deque<uint8_t> g_queue;
}
QueueHandle_t xQueueCreate(UBaseType_t, UBaseType_t) { return &g_queue; }
BaseType_t xQueueSend(QueueHandle_t, const void* item, TickType_t) {
  g_queue.push_back(*static_cast<const uint8_t*>(item));
  return pdTRUE;
}
BaseType_t xQueueReceive(QueueHandle_t, void* buffer, TickType_t) {
  if (g_queue.empty()) return pdFALSE;
  *static_cast<uint8_t*>(buffer) = g_queue.front();
  g_queue.pop_front();
  return pdTRUE;
}
BaseType_t xTaskCreate(TaskFunction_t, const char* name, uint32_t, void*, UBaseType_t priority, TaskHandle_t*) {
  recorder::task_name = name;
  recorder::task_priority = static_cast<int>(priority);
  rec("xTaskCreate %s", name);
  return pdPASS;
}
void vTaskDelay(TickType_t) {}
