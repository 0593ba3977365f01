// Host stand-in for arduino-esp32's WiFi.h (the calls src/main.cpp makes).
#pragma once

#include "Arduino.h"

typedef enum { WL_IDLE_STATUS = 0, WL_NO_SSID_AVAIL = 1, WL_CONNECTED = 3, WL_CONNECT_FAILED = 4, WL_DISCONNECTED = 6 } wl_status_t;
typedef enum { WIFI_OFF = 0, WIFI_STA = 1 } wifi_mode_t;

class WiFiClass {
 public:
  bool mode(wifi_mode_t m);
  wl_status_t begin(const char* ssid, const char* passphrase);
  wl_status_t status();
  bool setAutoReconnect(bool autoReconnect);
  bool setSleep(bool enabled);
  bool setHostname(const char* hostname);
  IPAddress localIP();
  int8_t RSSI();
};

extern WiFiClass WiFi;

class WiFiClient : public Client {
 public:
  int connect(const char* host, uint16_t port) override;
  uint8_t connected() override;
  void stop() override;
  int setNoDelay(bool nodelay);
};
