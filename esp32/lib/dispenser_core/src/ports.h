// The small interfaces through which the core reaches time and I/O. The Arduino glue
// (src/main.cpp), the host virtual dispenser (host/virtual_dispenser.cpp) and the unit tests
// each implement them; the core itself includes no Arduino, network or OS header.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dc {

class JsonWriter;

// Monotonic milliseconds since boot. Never steps with NTP or a wall-clock change, so the
// fail-safe deadline (DESIGN §4) holds even when the hub is gone.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t nowMs() = 0;
};

// The relay / motor-driver output that runs the dispenser.
class OutputPin {
 public:
  virtual ~OutputPin() = default;
  virtual void set(bool on) = 0;
};

// The ball-level sensor, already converted to a fill percentage (0 empty .. 100 full).
// Returns false when the reading is not valid (no echo, out of range): the sample is skipped.
class LevelSensor {
 public:
  virtual ~LevelSensor() = default;
  virtual bool readPercent(float& percent) = 0;
};

// Uniform 32-bit random numbers, for reconnect jitter (injected so tests can pin it).
class Random {
 public:
  virtual ~Random() = default;
  virtual uint32_t next() = 0;
};

// What the MQTT CONNECT carries (DESIGN §4: clean session, keep-alive 10 s or less).
struct ConnectOptions {
  const char* client_id;
  const char* username;
  const char* password;
  uint16_t keepalive_s;
  bool clean_session;
};

enum class ConnectResult : uint8_t {
  Failed,     // no network, refused, bad credentials: retry after backoff
  Pending,    // CONNECT sent; the glue calls Dispenser::onConnected() on CONNACK
  Connected,  // session established now (blocking clients such as PubSubClient)
};

class MqttPort {
 public:
  virtual ~MqttPort() = default;
  virtual ConnectResult connect(const ConnectOptions& options) = 0;
  virtual bool subscribe(const char* topic) = 0;
  virtual bool publish(const char* topic, const char* payload) = 0;
};

// Network facts for the report. rssi is absent on Ethernet.
class NetInfo {
 public:
  virtual ~NetInfo() = default;
  // Writes the dotted address into buf (size n); false when there is none.
  virtual bool ipAddress(char* buf, size_t n) = 0;
  virtual bool rssi(int& dbm) = 0;
  // Extra link facts for the report (Wi-Fi disconnect counts by reason); none by default.
  virtual void writeLinkStats(JsonWriter& w) { (void)w; }
};

// One JSON object per line describing what the core did (output on/off, deadline, refusals).
class EventLog {
 public:
  virtual ~EventLog() = default;
  virtual void line(const char* json) = 0;
};

}  // namespace dc
