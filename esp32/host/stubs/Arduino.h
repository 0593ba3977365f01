// Host stand-in for the parts of the Arduino-ESP32 core that src/main.cpp uses. Declarations
// only, signatures as in arduino-esp32 3.x (the version platformio.ini pins): the glue is
// compiled against these so a type error in it fails `make glue` without an ESP32 toolchain,
// and linked with host/stubs/recorder.cpp for the boot test (test/glue/boot_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

typedef bool boolean;

#define HIGH 0x1
#define LOW 0x0
#define INPUT 0x01
#define OUTPUT 0x03

void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);
int digitalRead(uint8_t pin);
unsigned long pulseIn(uint8_t pin, uint8_t state, unsigned long timeout);
void delay(uint32_t ms);
void delayMicroseconds(uint32_t us);
unsigned long millis();
uint32_t esp_random();

class String {
 public:
  String(const char* s = "") : s_(s) {}
  const char* c_str() const { return s_.c_str(); }
  unsigned int length() const { return static_cast<unsigned int>(s_.size()); }

 private:
  std::string s_;
};

class IPAddress {
 public:
  IPAddress() = default;
  IPAddress(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
  String toString() const;
  operator uint32_t() const;
};

class Print {
 public:
  size_t print(const char* s);
  size_t println(const char* s);
  size_t printf(const char* format, ...) __attribute__((format(printf, 2, 3)));
};

class HardwareSerial : public Print {
 public:
  void begin(unsigned long baud);
};

extern HardwareSerial Serial;

class EspClass {
 public:
  void restart();
};

extern EspClass ESP;

class Client {
 public:
  virtual ~Client() = default;
  virtual int connect(const char* host, uint16_t port) = 0;
  virtual uint8_t connected() = 0;
  virtual void stop() = 0;
};
