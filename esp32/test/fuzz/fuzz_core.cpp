// Fuzzes the protocol decode + Dispenser::onMessage with the safety invariants checked after
// every step. Built with ASan + UBSan (make fuzz), so an out-of-bounds access, an overflowing
// double -> integer cast or any other undefined behaviour aborts the run as well.
//
//   fuzz_core [inputs] [seed]      seeded random loop (no clang needed); prints a summary line
//   -DDC_LIBFUZZER                 the same invariants as a libFuzzer target (clang++ -fsanitize=fuzzer)
//
// Inputs are a mix of: structured controls drawn from hostile value pools (1e300, 1e13, NaN-
// like text, NUL escapes, wrong types, resends of the previous payload), byte-level mutations
// of valid controls, and random bytes; between them the clock jumps, the loop ticks, the link
// drops and comes back, and the independent deadline check polls.
//
// Invariants (DESIGN §9 "No control without a deadline", issue 15):
//   - never on without a deadline: the pin on => status active, the Failsafe armed, a deadline;
//   - never past MAX_ON_SECONDS: the deadline is at most max_on_s after the last accepted
//     active control, and the pin is never on at or after its deadline once polled;
//   - never on after a refusal: a refused message writes nothing to the pin;
//   - no pulse: one message writes the pin at most once;
//   - an accepted active control has 0 < scheduled_until - timestamp <= max_on_s (checked
//     with the harness's own arithmetic);
//   - every publish is one valid JSON object.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "dispenser.h"

namespace {

uint64_t g_rng = 1;
uint64_t next64() {  // splitmix64
  uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
uint32_t below(uint32_t n) { return static_cast<uint32_t>(next64() % n); }
bool chance(uint32_t percent) { return below(100) < percent; }
template <typename T, size_t N>
const T& pick(const T (&pool)[N]) {
  return pool[below(static_cast<uint32_t>(N))];
}

struct Clock : dc::Clock {
  uint64_t ms = 1000;
  uint64_t nowMs() override { return ms; }
};

struct Pin : dc::OutputPin {
  bool on = false;
  uint64_t writes = 0;
  void set(bool value) override {
    on = value;
    ++writes;
  }
};

struct Sensor : dc::LevelSensor {
  float percent = 50;
  bool readPercent(float& out) override {
    out = percent;
    return true;
  }
};

struct Mqtt : dc::MqttPort {
  dc::ConnectResult result = dc::ConnectResult::Connected;
  uint64_t published = 0;
  const char* bad = nullptr;  // a publish that was not one JSON object
  dc::JsonObject scratch;
  dc::ConnectResult connect(const dc::ConnectOptions&) override { return result; }
  bool subscribe(const char*) override { return true; }
  bool publish(const char*, const char* payload) override {
    ++published;
    if (dc::parseObject(payload, std::strlen(payload), scratch) != dc::JsonError::None) bad = payload;
    return true;
  }
};

struct Net : dc::NetInfo {
  bool ipAddress(char* buf, size_t n) override {
    std::snprintf(buf, n, "10.0.0.2");
    return true;
  }
  bool rssi(int& dbm) override {
    dbm = -60;
    return true;
  }
};

struct Rand : dc::Random {
  uint32_t next() override { return static_cast<uint32_t>(next64()); }
};

constexpr int kId = 7;
constexpr uint32_t kMaxOn = dc::kMaxOnSeconds;
constexpr double kT0 = 1767225600.25;

struct World {
  Clock clock;
  Pin pin;
  Sensor sensor;
  Mqtt mqtt;
  Net net;
  Rand random;
  dc::DispenserConfig config = makeConfig();
  dc::Dispenser d{config, dc::DispenserPorts{clock, pin, sensor, mqtt, net, random, nullptr}};
  uint64_t last_active_ms = 0;  // when the last active control was accepted
  bool ever_active = false;
  static dc::DispenserConfig makeConfig() {
    dc::DispenserConfig c;
    c.machine_id = kId;
    c.connect_block_ms = 0;
    return c;
  }
};

std::string g_last;       // the previous payload (for resends)
std::string g_current;    // the payload being checked (printed on a violation)
uint64_t g_seed = 0;
uint64_t g_input = 0;

[[noreturn]] void violated(const char* what) {
  std::printf("not ok - fuzz invariant violated: %s\n#   seed %llu input %llu payload: %s\n", what,
              static_cast<unsigned long long>(g_seed), static_cast<unsigned long long>(g_input), g_current.c_str());
  std::fflush(stdout);
  std::abort();
}

void checkState(World& w) {
  if (w.mqtt.bad != nullptr) violated("a publish is not a JSON object");
  if (w.pin.on != w.d.failsafe().isOn()) violated("the pin and the Failsafe disagree");
  if (!w.pin.on) return;
  if (w.d.status() != dc::Status::Active) violated("on while not active");
  if (!w.d.hasDeadline()) violated("on without a deadline");
  if (w.d.failsafe().deadlineMs() != w.d.deadlineMs()) violated("the Failsafe has another deadline");
  if (!w.ever_active) violated("on without an accepted active control");
  if (w.d.deadlineMs() > w.last_active_ms + uint64_t{kMaxOn} * 1000u) violated("deadline past MAX_ON_SECONDS");
}

// After a tick or a poll the deadline has been enforced.
void checkEnforced(World& w) {
  checkState(w);
  if (w.pin.on && w.clock.ms >= w.d.deadlineMs()) violated("on at or after its deadline");
}

std::string number(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, chance(50) ? "%.17g" : "%.3f", v);
  return buf;
}

std::string runValue(double ts) {
  static const double runs[] = {-10, -0.001, 0, 0.0004, 0.001, 0.0011, 1, 2, 5, 60, 600, 3599.99, 14399.999, 14400, 14400.001, 864000, 1e13, 1e300};
  if (chance(10)) return number(static_cast<double>(next64() % 100000) / 7.0);
  return number(ts + pick(runs));
}

std::string hostile() {
  static const char* pool[] = {"null", "true", "\"x\"", "{}", "[]", "[1,{\"a\":[]}]", "-0", "0", "-1", "1.5", "1e300", "-1e300", "1e13",
                               "1.7976931348623157e308", "5e-324", "9007199254740993", "1e400", "NaN", "Infinity", "\"active\\u0000junk\"",
                               "\"\\ud800\"", "01", "1.", ".5", "\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\""};
  return pick(pool);
}

// A control-like object: mostly valid, each field sometimes hostile, missing or repeated.
std::string structured() {
  static const char* statuses[] = {"\"active\"", "\"active\"", "\"active\"", "\"active\"", "\"active\"", "\"idle\"", "\"idle\"", "\"maintenance\"", "\"active\\u0000junk\"", "\"ACTIVE\""};
  double ts = chance(80) ? kT0 + static_cast<double>(below(100000)) : static_cast<double>(next64() % 4000000000ull);
  std::string fields[] = {
      "\"machine_id\":" + std::string(chance(97) ? std::to_string(kId) : hostile()),
      "\"session_id\":" + (chance(90) ? std::to_string(1 + below(5)) : chance(50) ? std::string("null") : hostile()),
      "\"status\":" + std::string(chance(97) ? pick(statuses) : hostile().c_str()),
      "\"scheduled_until\":" + (chance(75) ? runValue(ts) : chance(50) ? std::string("null") : hostile()),
      "\"timestamp\":" + (chance(97) ? number(ts) : hostile()),
      "\"exchange_id\":" + (chance(97) ? std::to_string(below(20)) : hostile()),
      "\"origin_node\":\"machine_handler\"",
      chance(10) ? "\"success\":true" : chance(10) ? "\"request_type\":\"machine\"" : "\"destination_node\":\"machine_007\"",
  };
  std::string out = "{";
  bool first = true;
  for (const std::string& f : fields) {
    if (chance(2)) continue;  // missing
    for (int copies = chance(3) ? 2 : 1; copies > 0; --copies) {
      if (!first) out += ',';
      first = false;
      out += f;
    }
  }
  if (chance(5)) out += std::string(first ? "" : ",") + "\"extra\":" + hostile();
  return out + "}";
}

std::string mutate(std::string s) {
  static const char* inserts[] = {"\\u0000", "\"", "\\", "{", "}", ",", ":", "e999", "-", "\x01", "\xff", " "};
  for (int n = 1 + static_cast<int>(below(4)); n > 0 && !s.empty(); --n) {
    size_t at = below(static_cast<uint32_t>(s.size()));
    switch (below(4)) {
      case 0: s[at] = static_cast<char>(below(256)); break;
      case 1: s.insert(at, pick(inserts)); break;
      case 2: s.erase(at, 1 + below(8)); break;
      case 3: s.resize(at); break;
    }
  }
  return s;
}

std::string randomBytes() {
  std::string s(below(200), '\0');
  for (char& c : s) c = static_cast<char>(below(256));
  return s;
}

// One message through onMessage, with the per-message invariants.
void deliver(World& w, const std::string& payload) {
  g_current = payload;
  uint32_t refused = w.d.refusedCount();
  uint64_t writes = w.pin.writes;
  bool was_on = w.pin.on;
  uint64_t before_ms = w.d.hasDeadline() ? w.d.deadlineMs() : 0;
  w.d.onMessage("external/machine/7", payload.data(), payload.size());
  const dc::Inbound& in = w.d.lastInbound();
  ++g_input;
  if (w.pin.writes > writes + 1) violated("one message pulsed the pin");
  if (w.d.refusedCount() != refused) {
    if (w.pin.writes != writes || w.pin.on != was_on) violated("a refused message touched the pin");
    if (w.d.hasDeadline() && w.d.deadlineMs() != before_ms) violated("a refused message moved the deadline");
  }
  if (in.kind == dc::InboundKind::Control && in.control.status == dc::Status::Active) {
    if (in.control.has_until) {
      double run = in.control.scheduled_until - in.control.timestamp;
      if (!(run > 0) || !(run <= static_cast<double>(kMaxOn))) violated("an active control with a run outside (0, MAX_ON_SECONDS] was accepted");
    }
    if (w.d.refusedCount() == refused && w.pin.on) {  // applied (or confirmed again)
      w.last_active_ms = w.pin.writes != writes || w.d.deadlineMs() != before_ms ? w.clock.ms : w.last_active_ms;
      w.ever_active = true;
    }
  }
  checkState(w);
  g_last = payload;
}

void step(World& w) {
  uint32_t r = below(100);
  if (r < 70) {
    std::string payload;
    uint32_t kind = below(100);
    if (kind < 15 && !g_last.empty()) payload = g_last;  // a resend
    else if (kind < 70) payload = structured();
    else if (kind < 92) payload = mutate(structured());
    else payload = randomBytes();
    deliver(w, payload);
    return;
  }
  static const uint64_t jumps[] = {0, 1, 7, 100, 999, 1000, 60000, 3600000, uint64_t{kMaxOn} * 1000u - 1, uint64_t{kMaxOn} * 1000u + 1};
  if (r < 88) {
    w.clock.ms += chance(50) ? pick(jumps) : below(5000);
    if (chance(30)) {  // the loop is stuck: only the independent deadline check runs
      w.d.failsafePoll();
      checkEnforced(w);
      return;
    }
    w.d.tick();
    checkEnforced(w);
    return;
  }
  if (r < 94) {
    w.mqtt.result = chance(50) ? dc::ConnectResult::Connected : dc::ConnectResult::Failed;
    w.d.onDisconnected();
  } else if (r < 97) {
    w.d.onConnected();
  } else if (r < 99) {
    w.sensor.percent = static_cast<float>(below(101));
  } else {
    w.d.safeOff();
    if (w.pin.on) violated("on after safeOff");
    w.d.tick();
  }
  checkState(w);
}

}  // namespace

#ifdef DC_LIBFUZZER
// libFuzzer: the bytes are one payload for a long-lived dispenser; the first byte moves the clock.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* w = [] {
    auto* world = new World();
    world->d.begin();
    world->d.tick();
    return world;
  }();
  if (size > 0) {
    w->clock.ms += uint64_t{data[0]} * 60000u;
    w->d.tick();
    checkEnforced(*w);
  }
  deliver(*w, std::string(reinterpret_cast<const char*>(data), size));
  // A few random steps (clock, ticks, link, polls), seeded by the input so a crash replays.
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
  g_rng = h;
  for (int i = 0; i < 3; ++i) step(*w);
  return 0;
}
#else
int main(int argc, char** argv) {
  uint64_t inputs = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  g_seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  g_rng = g_seed;
  auto start = std::chrono::steady_clock::now();
  uint64_t episodes = 0;
  uint64_t refused = 0;
  uint64_t on_episodes = 0;
  while (g_input < inputs) {
    World w;  // a fresh dispenser every few thousand inputs (boot, then a run of steps)
    ++episodes;
    w.d.begin();
    w.d.tick();
    g_last.clear();
    bool was_on = false;
    for (int i = 0; i < 4000 && g_input < inputs; ++i) {
      step(w);
      was_on = was_on || w.pin.on;
    }
    refused += w.d.refusedCount();
    on_episodes += was_on ? 1 : 0;
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("# fuzz %llu inputs seed %llu in %.0f ms: %llu episodes, %llu refused, output on in %llu episodes, invariants held\n",
              static_cast<unsigned long long>(g_input), static_cast<unsigned long long>(g_seed), ms,
              static_cast<unsigned long long>(episodes), static_cast<unsigned long long>(refused), static_cast<unsigned long long>(on_episodes));
  return 0;
}
#endif
