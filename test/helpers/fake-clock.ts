import type { Clock } from '../../src/lib/clock.js'

interface Timer {
  at: number
  seq: number
  fn: () => void
}

/**
 * A Clock whose time moves only when the test says so. `advance` fires due timers in
 * time order and lets promises settle between them, so async work triggered by a timer
 * completes before the next one fires. `jump` moves the wall clock without firing
 * anything first (an NTP step on a Pi with no RTC).
 */
export class FakeClock implements Clock {
  private timers: Timer[] = []
  private seq = 0
  /** moves with advance() only, never with jump(): what performance.now() is to Date.now() */
  private elapsed = 0

  constructor(private time = Date.UTC(2026, 0, 1, 10, 0, 0)) {}

  now(): number {
    return this.time
  }

  monotonic(): number {
    return this.elapsed
  }

  nowSeconds(): number {
    return this.time / 1000
  }

  setTimeout(fn: () => void, ms: number): () => void {
    const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn }
    this.timers.push(timer)
    return () => {
      this.timers = this.timers.filter((t) => t !== timer)
    }
  }

  get pendingTimers(): number {
    return this.timers.length
  }

  async advance(ms: number): Promise<void> {
    const target = this.time + ms
    for (;;) {
      await settle()
      const next = this.timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!next) break
      this.timers = this.timers.filter((t) => t !== next)
      this.move(Math.max(this.time, next.at))
      next.fn()
    }
    this.move(target)
    await settle()
  }

  private move(to: number): void {
    this.elapsed += to - this.time
    this.time = to
  }

  /** Set the wall clock (forward or back); timers keep their absolute due times. */
  async jump(toMs: number): Promise<void> {
    this.time = toMs
    await settle()
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}
