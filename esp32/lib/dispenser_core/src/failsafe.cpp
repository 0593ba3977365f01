#include "failsafe.h"

namespace dc {

void Failsafe::on(uint64_t deadline_ms) {
  // Deadline, then pin, then the flag: a poll() that sees on_ == true sees this deadline, and
  // a poll() racing this call can only leave the pin off while on_ says on (the safe side),
  // never the pin on with on_ false (which no later poll would catch).
  deadline_ms_.store(deadline_ms, std::memory_order_release);
  if (!on_.load(std::memory_order_acquire)) pin_.set(true);
  on_.store(true, std::memory_order_release);
}

void Failsafe::off() {
  on_.store(false, std::memory_order_release);
  pin_.set(false);
}

bool Failsafe::poll(uint64_t now_ms) {
  if (!on_.load(std::memory_order_acquire) || now_ms < deadline_ms_.load(std::memory_order_acquire)) return false;
  // Only the caller that flips on_ writes the pin, so a racing poll() cannot double-report.
  bool expected = true;
  if (!on_.compare_exchange_strong(expected, false, std::memory_order_acq_rel)) return false;
  pin_.set(false);
  return true;
}

void Failsafe::safeOff() {
  on_.store(false, std::memory_order_release);
  pin_.set(false);
}

}  // namespace dc
