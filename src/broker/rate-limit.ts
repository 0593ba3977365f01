/**
 * Token buckets for per-client message rates (issue 10 defect 4: one kiosk's 1,000 schedule
 * Requests stalled the hub). Pure, with an injected clock: `take()` is true while the client is
 * within `ratePerS` sustained and `burst` at once.
 */
import type { Clock } from '../lib/clock.js'

export interface TokenBucket {
  /** spends one token; false when none is left (the message is to be dropped) */
  take(): boolean
}

export function createTokenBucket(clock: Clock, ratePerS: number, burst: number): TokenBucket {
  let tokens = burst
  let last = clock.now()
  return {
    take() {
      const now = clock.now()
      // a clock stepped back (NTP on a Pi without RTC) refills nothing rather than going negative
      tokens = Math.min(burst, tokens + (Math.max(0, now - last) / 1000) * ratePerS)
      last = now
      if (tokens < 1) return false
      tokens -= 1
      return true
    },
  }
}
