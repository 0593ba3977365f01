// Host stand-in for arduino-esp32's ETH.h (LAN8720 boards such as WT32-ETH01, Olimex ESP32-POE).
#pragma once

#include "Arduino.h"

class ETHClass {
 public:
  bool begin();
  bool linkUp();
  IPAddress localIP();
  bool setHostname(const char* hostname);
  String macAddress();
};

extern ETHClass ETH;
