// Wi-Fi station supervision, free of the Wi-Fi driver: the glue forwards "got IP" and
// "disconnected (reason)" events and calls WiFi.begin() when dueBegin() says so. Every
// disconnect, whatever its reason, is retried with the jittered backoff (the driver's own
// auto-reconnect gives up on some reasons), and the reasons are counted for the report.
#pragma once

#include <cstdint>

#include "backoff.h"
#include "json.h"
#include "ports.h"

namespace dc {

struct WifiLinkConfig {
  BackoffConfig backoff;                 // 1, 2, 4 … 30 s, each in [half, full]
  uint32_t attempt_timeout_ms = 20000;   // a begin() with no IP by then counts as failed
  uint32_t stable_ms = 30000;            // a link that held this long starts the backoff over
};

class WifiLink {
 public:
  static constexpr uint8_t kTimeoutReason = 0;  // no IP within attempt_timeout_ms (not an IDF reason)
  static constexpr int kSlots = 12;             // distinct reasons counted; the rest go to "other"

  explicit WifiLink(const WifiLinkConfig& config = WifiLinkConfig{}) : config_(config), backoff_(config.backoff) {}

  void onConnected(uint64_t now_ms);
  // reason: the IDF wifi_err_reason_t (e.g. 201 NO_AP_FOUND, 15 4WAY_HANDSHAKE_TIMEOUT).
  void onDisconnected(uint64_t now_ms, uint8_t reason);
  // True when the glue should (re)start the station now: WiFi.disconnect(); WiFi.begin(...).
  bool dueBegin(uint64_t now_ms, Random& random);

  bool connected() const { return state_ == State::Connected; }
  uint64_t nextBeginMs() const { return next_ms_; }
  uint32_t disconnects() const { return total_; }
  uint32_t count(uint8_t reason) const;
  uint32_t begins() const { return begins_; }
  // "wifi_disconnects":N,"wifi_reasons":{"201":3,"15":1,"other":0}
  void writeStats(JsonWriter& w) const;

 private:
  enum class State : uint8_t { Waiting, Connecting, Connected };
  void record(uint8_t reason);

  WifiLinkConfig config_;
  Backoff backoff_;
  State state_ = State::Waiting;
  uint64_t next_ms_ = 0;  // first begin at once
  uint64_t started_ms_ = 0;
  uint64_t connected_ms_ = 0;
  bool retry_pending_ = false;  // a disconnect arrived: the delay is drawn on the next dueBegin
  uint32_t total_ = 0;
  uint32_t begins_ = 0;
  uint32_t other_ = 0;
  uint8_t reasons_[kSlots] = {};
  uint32_t counts_[kSlots] = {};
  int used_ = 0;
};

}  // namespace dc
