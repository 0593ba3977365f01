// The dispenser side of the MQTT contract (DESIGN §4 "Dispensers"), mirroring
// src/protocol/topics.ts and messages.ts (test/esp32/host.test.ts checks the topic and node
// strings against the TypeScript constants so the two cannot drift apart).
#pragma once

#include <cstddef>
#include <cstdint>

#include "json.h"

namespace dc {

constexpr const char* kTopicHandler = "external/handler";        // Topics.machineHandler
constexpr const char* kTopicMachinePrefix = "external/machine/";  // Topics.machinePrefix
constexpr const char* kNodeMachineHandler = "machine_handler";    // NodeNames.machineHandler
constexpr int kMaxMachineId = 9999;                               // MachineId maximum

// The longest the output may stay on from one control, whatever the hub sends (DESIGN §9 "No
// control without a deadline"): a longer `active` run is refused naming scheduled_until, and an
// `active` with no scheduled_until is bounded by it on the device. Build flag, default 4 h.
#ifndef MAX_ON_SECONDS
#define MAX_ON_SECONDS 14400
#endif
constexpr uint32_t kMaxOnSeconds = MAX_ON_SECONDS;
static_assert(kMaxOnSeconds >= 1 && kMaxOnSeconds <= 7u * 24u * 3600u, "MAX_ON_SECONDS: 1 s .. 7 days");

// external/machine/4 (the canonical topic, as machineTopic(id) builds it).
void machineTopic(int id, char* buf, size_t n);
// machine_004 (as machineNodeName(id) builds it).
void machineNodeName(int id, char* buf, size_t n);

// CommandStatus: the states the hub may command.
enum class Status : uint8_t { Idle, Active, Maintenance };
const char* statusName(Status s);
bool parseStatus(const char* text, Status& out);

enum class BallLevel : uint8_t { Empty, Urgent, Low, Medium, Full };
const char* ballLevelName(BallLevel level);

// A decoded MachineControl. Null session_id / scheduled_until are has_* = false.
struct Control {
  Status status;
  bool has_session;
  int64_t session_id;
  bool has_until;
  double scheduled_until;
  double timestamp;
  int64_t exchange_id;
};

enum class InboundKind : uint8_t {
  Control,        // apply and confirm
  ReportRequest,  // Request machine: report now
  Update,         // FirmwareUpdate (issue 16): the fields are read from the parse by ota.h decodeUpdate
  HubReply,       // the hub's Confirmation (e.g. it refused our report): never answered, or we would ping-pong
  Invalid,        // refuse with a Confirmation naming the field
};

struct Inbound {
  InboundKind kind;
  Control control;  // valid when kind == Control
  // What a refusal can still echo (each only when present and well-typed).
  bool has_exchange_id;
  int64_t exchange_id;
  bool has_session_id;
  int64_t session_id;
  bool has_status;
  Status status;
  char message[96];  // "field: problem" when kind == Invalid
};

// Classifies and validates one payload received on external/machine/{own_id}. An `active`
// control must run more than 0 s and at most max_on_s (scheduled_until - timestamp).
void decodeInbound(const char* payload, size_t len, int own_id, uint32_t max_on_s, JsonObject& scratch, Inbound& out);

}  // namespace dc
