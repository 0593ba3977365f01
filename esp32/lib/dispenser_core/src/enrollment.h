// Adoption of an unadopted dispenser (issue 16), mirroring src/protocol/fleet.ts: with no bay
// credentials in NVS the generic image logs in with the shared enrollment login, announces
// itself on external/enroll/{mac}, blinks its status LED when staff identify it (the output
// pin is not even reachable from here: never the motor), and stores the bay and secret the hub
// assigns. The glue then restarts as machine_N (Dispenser). Pure: no Arduino, no heap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backoff.h"
#include "json.h"
#include "ports.h"

namespace dc {

constexpr const char* kTopicEnrollPrefix = "external/enroll/";  // Topics.enrollPrefix
constexpr const char* kEnrollUsername = "enroll";              // ENROLL_USERNAME
constexpr const char* kEnrollClientPrefix = "enroll_";         // enrollClientId(mac)
constexpr size_t kMacLength = 12;                              // 12 lowercase hex digits

// True when `mac` is 12 lowercase hex digits (the one spelling the hub accepts).
bool isMac(const char* mac);
// "a4:CF:12:..." or "A4CF12..." -> "a4cf12..."; false when it is not 6 bytes of hex.
bool normalizeMac(const char* in, char out[kMacLength + 1]);

// The bay credentials the hub assigned, as NVS keeps them.
struct BayCredentials {
  int machine_id;
  char username[20];  // machine_012
  char secret[JsonField::kMaxString];
};

// Non-volatile storage of the bay credentials (NVS on the ESP32, a file on the host).
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  virtual bool load(BayCredentials& out) = 0;
  virtual bool save(const BayCredentials& c) = 0;
};

// The status LED (not the dispenser output).
class StatusLed {
 public:
  virtual ~StatusLed() = default;
  virtual void set(bool on) = 0;
};

enum class EnrollCommandKind : uint8_t { Identify, Assign, Ignore, Invalid };

struct EnrollCommand {
  EnrollCommandKind kind;
  uint32_t seconds;        // Identify
  BayCredentials assign;   // Assign
  char message[64];        // Invalid: "field: problem"
};

// Decodes one message heard on the device's own enrollment topic. Its own announcement comes
// back too (no "no local" in MQTT 3.1.1): anything without "command" is Ignore.
void decodeEnrollCommand(const char* payload, size_t len, JsonObject& scratch, EnrollCommand& out);

struct EnrollConfig {
  const char* mac = "";       // normalized (isMac)
  const char* firmware = "1.0.0";
  const char* secret = "";    // the shared enrollment secret built into the generic image
  uint16_t keepalive_s = 10;
  uint32_t announce_ms = 5000;
  uint32_t blink_ms = 250;
  uint32_t connect_timeout_ms = 15000;
  BackoffConfig backoff{1000, 15000};
};

struct EnrollPorts {
  Clock& clock;
  MqttPort& mqtt;
  NetInfo& net;
  Random& random;
  StatusLed& led;
  CredentialStore& store;
  EventLog* log;
};

class Enroller {
 public:
  Enroller(const EnrollConfig& config, const EnrollPorts& ports);
  void begin();
  void tick();
  void onConnected();
  void onDisconnected();
  void onMessage(const char* topic, const char* payload, size_t len);

  // The hub assigned a bay and NVS holds it: restart as that machine.
  bool adopted() const { return adopted_; }
  const BayCredentials& credentials() const { return creds_; }
  bool identifying() const { return identify_until_ms_ > 0; }
  const char* topic() const { return topic_; }
  const char* clientId() const { return client_id_; }

 private:
  void tryConnect(uint64_t now);
  void scheduleRetry(uint64_t now);
  void announce(uint64_t now);
  void log(const char* event, const char* key = nullptr, const char* value = nullptr, int64_t number = -1);

  EnrollConfig config_;
  EnrollPorts ports_;
  Backoff backoff_;
  JsonObject scratch_;
  EnrollCommand command_;
  BayCredentials creds_{};
  char topic_[40];
  char client_id_[24];
  bool connected_ = false;
  bool connecting_ = false;
  bool adopted_ = false;
  uint64_t next_attempt_ms_ = 0;
  uint64_t connect_started_ms_ = 0;
  uint64_t last_announce_ms_ = 0;
  uint64_t identify_until_ms_ = 0;
  uint64_t last_blink_ms_ = 0;
  bool led_on_ = false;
};

}  // namespace dc
