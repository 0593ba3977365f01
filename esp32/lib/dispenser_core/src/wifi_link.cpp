#include "wifi_link.h"

#include <cstdio>

namespace dc {

void WifiLink::onConnected(uint64_t now_ms) {
  state_ = State::Connected;
  connected_ms_ = now_ms;
  retry_pending_ = false;
}

void WifiLink::onDisconnected(uint64_t now_ms, uint8_t reason) {
  record(reason);
  // A link that held for a while starts the backoff over; one that drops at once keeps growing it.
  if (state_ == State::Connected && now_ms - connected_ms_ >= config_.stable_ms) backoff_.reset();
  if (state_ == State::Waiting) return;  // already waiting: one retry per attempt
  state_ = State::Waiting;
  next_ms_ = now_ms;
  retry_pending_ = true;
}

bool WifiLink::dueBegin(uint64_t now_ms, Random& random) {
  if (state_ == State::Connecting && now_ms - started_ms_ >= config_.attempt_timeout_ms) {
    record(kTimeoutReason);
    state_ = State::Waiting;
    next_ms_ = now_ms;
    retry_pending_ = true;
  }
  if (state_ != State::Waiting) return false;
  if (retry_pending_) {  // the delay is drawn here, where the random source is at hand
    retry_pending_ = false;
    next_ms_ = now_ms + backoff_.next(random);
  }
  if (now_ms < next_ms_) return false;
  state_ = State::Connecting;
  started_ms_ = now_ms;
  ++begins_;
  return true;
}

void WifiLink::record(uint8_t reason) {
  ++total_;
  for (int i = 0; i < used_; ++i) {
    if (reasons_[i] == reason) {
      ++counts_[i];
      return;
    }
  }
  if (used_ < kSlots) {
    reasons_[used_] = reason;
    counts_[used_++] = 1;
    return;
  }
  ++other_;
}

uint32_t WifiLink::count(uint8_t reason) const {
  for (int i = 0; i < used_; ++i)
    if (reasons_[i] == reason) return counts_[i];
  return 0;
}

void WifiLink::writeStats(JsonWriter& w) const {
  w.integer("wifi_disconnects", total_).object("wifi_reasons");
  for (int i = 0; i < used_; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "%u", static_cast<unsigned>(reasons_[i]));
    w.integer(key, counts_[i]);
  }
  if (other_ > 0) w.integer("other", other_);
  w.end();
}

}  // namespace dc
