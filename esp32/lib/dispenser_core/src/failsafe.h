// The output's last line of defence. The loop task switches the output through it, always with
// a hard deadline; any other context (an independent deadline task or hardware timer, the task
// watchdog's ISR) may call poll() or safeOff(), which touch only atomics and the pin. So a
// network call that hangs the loop cannot keep the dispenser running past its deadline.
#pragma once

#include <atomic>
#include <cstdint>

#include "ports.h"

namespace dc {

class Failsafe {
 public:
  explicit Failsafe(OutputPin& pin) : pin_(pin) {}

  // Output on until deadline_ms (monotonic); also moves the deadline of a running output.
  void on(uint64_t deadline_ms);
  // Output off (the loop task's normal path).
  void off();
  // From any context: switches the output off when the deadline has passed. True when this
  // call did it (the loop then reverts its state and reports).
  bool poll(uint64_t now_ms);
  // The watchdog / reset path: output off now, whatever the state. Safe in an ISR.
  void safeOff();

  bool isOn() const { return on_.load(std::memory_order_acquire); }
  uint64_t deadlineMs() const { return deadline_ms_.load(std::memory_order_acquire); }

 private:
  OutputPin& pin_;
  std::atomic<bool> on_{false};
  std::atomic<uint64_t> deadline_ms_{0};
};

}  // namespace dc
