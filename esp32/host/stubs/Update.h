// Host stand-in for arduino-esp32's Update (writes the inactive OTA partition); declarations only.
#pragma once

#include <cstddef>
#include <cstdint>

class UpdateClass {
 public:
  bool begin(size_t size);
  size_t write(uint8_t* data, size_t len);
  bool end(bool evenIfRemaining = false);
  void abort();
  bool hasError();
};

extern UpdateClass Update;
