// Host stand-in for arduino-esp32's WiFi.h (the calls src/main.cpp makes).
#pragma once

#include <functional>

#include "Arduino.h"

typedef enum { WL_IDLE_STATUS = 0, WL_NO_SSID_AVAIL = 1, WL_CONNECTED = 3, WL_CONNECT_FAILED = 4, WL_DISCONNECTED = 6 } wl_status_t;
typedef enum { WIFI_OFF = 0, WIFI_STA = 1 } wifi_mode_t;

// arduino-esp32 3.x Network events (the two the glue uses) and their info union.
typedef enum {
  ARDUINO_EVENT_WIFI_STA_CONNECTED = 11,
  ARDUINO_EVENT_WIFI_STA_DISCONNECTED = 12,
  ARDUINO_EVENT_WIFI_STA_GOT_IP = 14,
  ARDUINO_EVENT_MAX = 100,
} arduino_event_id_t;
typedef struct {
  uint8_t ssid[32];
  uint8_t ssid_len;
  uint8_t bssid[6];
  uint8_t reason;  // wifi_err_reason_t
  int8_t rssi;
} wifi_event_sta_disconnected_t;
typedef union {
  wifi_event_sta_disconnected_t wifi_sta_disconnected;
} arduino_event_info_t;
typedef std::function<void(arduino_event_id_t event, arduino_event_info_t info)> WiFiEventFuncCb;
typedef uint16_t wifi_event_id_t;

class WiFiClass {
 public:
  bool mode(wifi_mode_t m);
  wl_status_t begin(const char* ssid, const char* passphrase);
  bool disconnect(bool wifioff = false, bool eraseap = false, unsigned long timeoutLength = 100);
  wifi_event_id_t onEvent(WiFiEventFuncCb cbEvent, arduino_event_id_t event = ARDUINO_EVENT_MAX);
  wl_status_t status();
  bool setAutoReconnect(bool autoReconnect);
  bool setSleep(bool enabled);
  bool setHostname(const char* hostname);
  IPAddress localIP();
  int8_t RSSI();
  String macAddress();
};

extern WiFiClass WiFi;

class WiFiClient : public Client {
 public:
  int connect(const char* host, uint16_t port) override;
  uint8_t connected() override;
  void stop() override;
  int setNoDelay(bool nodelay);
  int available();
  int read(uint8_t* buf, size_t size);
};
