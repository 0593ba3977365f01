// Test doubles for the core's ports: a settable monotonic clock, a recording output pin,
// sensor, MQTT port and event log, and a scripted random source.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dispenser.h"
#include "json.h"

namespace fake {

struct Clock : dc::Clock {
  uint64_t ms = 1000;
  uint64_t nowMs() override { return ms; }
};

struct Output : dc::OutputPin {
  bool on = false;
  std::vector<bool> writes;
  void set(bool value) override {
    on = value;
    writes.push_back(value);
  }
};

struct Sensor : dc::LevelSensor {
  float percent = 90;
  bool valid = true;
  bool readPercent(float& out) override {
    out = percent;
    return valid;
  }
};

struct Published {
  std::string topic;
  std::string payload;
};

struct Mqtt : dc::MqttPort {
  dc::ConnectResult result = dc::ConnectResult::Connected;
  std::vector<dc::ConnectOptions> connects;
  std::vector<std::string> connect_ids;
  std::vector<std::string> subscribed;
  std::vector<Published> published;
  dc::ConnectResult connect(const dc::ConnectOptions& o) override {
    connects.push_back(o);
    connect_ids.push_back(o.client_id);
    return result;
  }
  bool subscribe(const char* topic) override {
    subscribed.push_back(topic);
    return true;
  }
  bool publish(const char* topic, const char* payload) override {
    published.push_back({topic, payload});
    return true;
  }
  // Messages whose JSON has (or lacks) a "success" key: confirmations vs reports.
  std::vector<dc::JsonObject> parsed(bool confirmations) const {
    std::vector<dc::JsonObject> out;
    for (const Published& p : published) {
      dc::JsonObject o;
      if (dc::parseObject(p.payload.data(), p.payload.size(), o) != dc::JsonError::None) continue;
      if ((o.find("success") != nullptr) == confirmations) out.push_back(o);
    }
    return out;
  }
  std::vector<dc::JsonObject> confirmations() const { return parsed(true); }
  std::vector<dc::JsonObject> reports() const { return parsed(false); }
};

struct Net : dc::NetInfo {
  bool ipAddress(char* buf, size_t n) override {
    std::snprintf(buf, n, "192.168.4.23");
    return true;
  }
  bool rssi(int& dbm) override {
    dbm = -61;
    return true;
  }
};

// Returns the scripted values in turn (then the last one again).
struct Random : dc::Random {
  std::vector<uint32_t> values{0};
  size_t i = 0;
  uint32_t next() override { return values[i < values.size() ? i++ : values.size() - 1]; }
};

struct Log : dc::EventLog {
  std::vector<std::string> lines;
  void line(const char* json) override { lines.push_back(json); }
  // The last line of one event ("output", "refused", ...), or "" when there is none.
  std::string last(const char* event) const {
    std::string tag = std::string("\"event\":\"") + event + "\"";
    for (size_t i = lines.size(); i > 0; --i)
      if (lines[i - 1].find(tag) != std::string::npos) return lines[i - 1];
    return "";
  }
};

// One dispenser wired to fakes; machine 1, secret "s3cret".
struct World {
  Clock clock;
  Output output;
  Sensor sensor;
  Mqtt mqtt;
  Net net;
  Random random;
  Log log;
  dc::DispenserConfig config;
  dc::Dispenser dispenser;
  explicit World(dc::DispenserConfig c = base())
      : config(c), dispenser(config, dc::DispenserPorts{clock, output, sensor, mqtt, net, random, &log}) {}
  static dc::DispenserConfig base() {
    dc::DispenserConfig c;
    c.machine_id = 1;
    c.password = "s3cret";
    return c;
  }
  void advance(uint64_t ms) {
    clock.ms += ms;
    dispenser.tick();
  }
  // Advances in 100 ms steps, as the glue's loop would tick.
  void run(uint64_t ms) {
    for (uint64_t t = 0; t < ms; t += 100) advance(100);
  }
  void send(const std::string& payload) { dispenser.onMessage("external/machine/1", payload.data(), payload.size()); }
  void start() {
    dispenser.begin();
    dispenser.tick();
  }
};

// A copy, so `field(w.mqtt.reports().at(0), "x").str` outlives the temporary vector.
inline dc::JsonField field(const dc::JsonObject& o, const char* key) {
  const dc::JsonField* f = o.find(key);
  return f != nullptr ? *f : dc::JsonField{};
}

}  // namespace fake
