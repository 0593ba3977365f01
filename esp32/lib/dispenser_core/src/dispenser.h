// The dispenser's whole behaviour, free of Arduino and sockets (DESIGN §4 "Dispensers"):
// applies controls with a fail-safe deadline on the monotonic clock, confirms every control,
// refuses malformed ones naming the field, reports on connect / on change / every 30 s,
// filters the ball level, and paces reconnects. The glue calls begin() once, tick() often,
// and forwards connection events and messages.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backoff.h"
#include "ball_level.h"
#include "failsafe.h"
#include "json.h"
#include "ota.h"
#include "ports.h"
#include "protocol.h"

namespace dc {

struct DispenserConfig {
  int machine_id = 1;
  const char* firmware = "1.0.0";
  const char* username = nullptr;  // nullptr: the node name, machine_00N
  const char* password = "";       // the machine secret from the hub's CLI
  uint16_t keepalive_s = 10;     // DESIGN §4: 10 s or less, never 0
  uint32_t heartbeat_ms = 30000;
  uint32_t sensor_period_ms = 1000;
  uint32_t connect_timeout_ms = 15000;  // a CONNECT with no CONNACK counts as failed
  uint32_t stable_ms = 30000;    // a connection that lasted this long resets the backoff
  // A blocking connect (PubSubClient: TCP connect + CONNACK wait) stalls tick(); no attempt
  // starts when the fail-safe deadline is closer than this, so the deadline is never late.
  uint32_t connect_block_ms = 0;
  // The device's own ceiling on one control's run (protocol.h, build flag MAX_ON_SECONDS).
  uint32_t max_on_s = kMaxOnSeconds;
  // While the output is on, reconnect at least this often, so the hub can stop or move a
  // running session soon after it comes back.
  uint32_t on_retry_max_ms = 5000;
  // The largest image the inactive OTA slot holds (default: 1.875 MiB, the app slots of the
  // ESP32's stock 4 MB "min_spiffs"/OTA partition tables are 0x1E0000).
  uint32_t ota_max_size = 0x1E0000;
  BackoffConfig backoff;
  LevelConfig levels;
};

// Runs an over-the-air update (issue 16) outside the core: download, verify, flash, reboot.
// The glue implements it; without one the dispenser refuses updates.
class Updater {
 public:
  virtual ~Updater() = default;
  virtual void request(const UpdateCommand& command) = 0;
};

struct DispenserPorts {
  Clock& clock;
  OutputPin& output;
  LevelSensor& sensor;
  MqttPort& mqtt;
  NetInfo& net;
  Random& random;
  EventLog* log;  // optional
};

enum class LinkState : uint8_t { Waiting, Connecting, Connected };

class Dispenser {
 public:
  Dispenser(const DispenserConfig& config, const DispenserPorts& ports);

  void begin();  // output off, first level sample, first connect attempt due now
  void tick();   // deadline, sensor, heartbeat, reconnect
  void onConnected();
  void onDisconnected();
  void onMessage(const char* topic, const char* payload, size_t len);
  void setUpdater(Updater* updater) { updater_ = updater; }
  // OtaStatus on external/handler: downloading / refused / failed / rolled_back (+ message).
  void publishOta(const char* state, const char* version, const char* message);

  // Safe from any task or ISR (atomics and the pin only): the deadline check an independent
  // task or timer runs, so a hung loop cannot keep the output on. True when it switched off.
  bool failsafePoll() { return failsafe_.poll(ports_.clock.nowMs()); }
  // The task watchdog / reset path: output off now, before the chip resets. Safe in an ISR.
  void safeOff() { failsafe_.safeOff(); }

  Status status() const { return status_; }
  // The commanded state (the pin follows it, unless the Failsafe switched it off first).
  bool outputOn() const { return status_ == Status::Active; }
  const Failsafe& failsafe() const { return failsafe_; }
  bool hasDeadline() const { return has_deadline_; }
  uint64_t deadlineMs() const { return deadline_ms_; }
  LinkState link() const { return link_; }
  uint64_t nextAttemptMs() const { return next_attempt_ms_; }
  BallLevel ballLevel() const { return level_.level(); }
  const char* topic() const { return topic_; }
  const char* nodeName() const { return node_; }
  uint32_t refusedCount() const { return refused_; }
  // The last message as decoded (for the fuzz harness's invariants).
  const Inbound& lastInbound() const { return inbound_; }

 private:
  void applyControl(const Control& c);
  bool isResend(const Control& c) const;
  void refuse(const char* message);
  void confirm(bool success, const Inbound& in, const char* message);
  struct Deadline {
    bool set;
    uint64_t at_ms;
    const char* reason;  // "deadline" (the hub's scheduled_until) or "max_on" (the device's own)
  };
  // Returns true when anything a report carries changed.
  bool setState(Status status, bool has_session, int64_t session, bool has_until, double until, Deadline deadline, const char* reason);
  void revert();
  void publishReport();
  void sampleLevel(uint64_t now);
  void tryConnect(uint64_t now);
  void scheduleRetry(uint64_t now);
  // One JSON line for the EventLog: eventLine("x").str(...); emit(...).
  JsonWriter& eventLine(const char* name);
  void emit(JsonWriter& w);

  DispenserConfig config_;
  DispenserPorts ports_;
  char topic_[32];
  char node_[20];
  LevelFilter level_;
  Backoff backoff_;
  Failsafe failsafe_;
  JsonObject scratch_;
  Inbound inbound_;

  Status status_ = Status::Idle;
  bool has_session_ = false;
  int64_t session_id_ = 0;
  bool has_until_ = false;
  double scheduled_until_ = 0;
  bool has_deadline_ = false;
  uint64_t deadline_ms_ = 0;
  const char* deadline_reason_ = "deadline";

  // The last applied control, so a resend of it (lost Confirmation) is confirmed again
  // without re-arming the deadline or re-activating an expired session.
  bool has_last_ = false;
  bool last_lapsed_ = false;  // its run ended (deadline): a resend is no longer confirmed
  Control last_{};

  LinkState link_ = LinkState::Waiting;
  uint64_t boot_ms_ = 0;
  uint64_t next_attempt_ms_ = 0;
  uint64_t connect_started_ms_ = 0;
  uint64_t connected_at_ms_ = 0;
  uint64_t last_report_ms_ = 0;
  uint64_t last_sample_ms_ = 0;
  bool sampled_ = false;
  uint32_t refused_ = 0;
  Updater* updater_ = nullptr;
  void handleUpdate();
  char event_buf_[192];
  JsonWriter event_{event_buf_, sizeof event_buf_};
};

}  // namespace dc
