// Host stand-in for arduino-esp32's Preferences (NVS key-value store); declarations only, as in 3.x.
#pragma once

#include <cstddef>
#include <cstdint>

#include "Arduino.h"

class Preferences {
 public:
  bool begin(const char* name, bool readOnly = false, const char* partition_label = nullptr);
  void end();
  bool clear();
  bool remove(const char* key);
  size_t putInt(const char* key, int32_t value);
  int32_t getInt(const char* key, int32_t defaultValue = 0);
  size_t putString(const char* key, const char* value);
  size_t getString(const char* key, char* value, size_t maxLen);
  bool isKey(const char* key);
};
