// Host stand-in for arduino-esp32's HTTPClient (the calls the OTA glue makes); declarations only.
#pragma once

#include "Arduino.h"
#include "WiFi.h"

#define HTTP_CODE_OK 200

class HTTPClient {
 public:
  bool begin(const char* url);
  int GET();
  int getSize();
  WiFiClient* getStreamPtr();
  bool connected();
  void setTimeout(uint16_t timeout);
  void end();
};
