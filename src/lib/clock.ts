/**
 * Time as an injected dependency, so domain logic is tested with a fake clock (STYLE §2.4).
 * `now()` is epoch milliseconds; `setTimeout` returns its own cancel function; `monotonic()`
 * (optional) is a clock that never steps, in ms from an arbitrary origin.
 */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): () => void
  monotonic?(): number
}

// setTimeout overflows above 2^31-1 ms and then fires at once; callers re-arm instead.
const MAX_TIMER_MS = 2_147_483_647

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS))
    return () => clearTimeout(timer)
  },
  monotonic: () => performance.now(),
}

/** Epoch seconds (float), the unit of every time on the wire (DESIGN §4). */
export function nowSeconds(clock: Clock): number {
  return clock.now() / 1000
}

/**
 * The hub's one clock (issue 15, time you can trust): the system clock, or, once staff confirmed
 * the time from a tablet while the system clock is not synchronised, that time counted on with
 * the monotonic clock, so a later step of the system clock (fake-hwclock, NTP) cannot move it.
 * Timers are relative and run on the base clock unchanged.
 */
export interface TrustedClock extends Clock {
  /** run on `epochMs` from now on (a staff confirmation) */
  anchor(epochMs: number): void
  /** back to the system clock (it is synchronised again) */
  release(): void
  /** hub time minus the system clock's time: 0 unless anchored */
  offsetMs(): number
  anchored(): boolean
  /** the system clock, whatever the hub runs on */
  system(): number
  monotonic(): number
}

export function createTrustedClock(base: Clock = systemClock): TrustedClock {
  const monotonic = () => base.monotonic?.() ?? performance.now()
  let anchor: { epochMs: number; at: number } | null = null
  const now = () => (anchor ? anchor.epochMs + (monotonic() - anchor.at) : base.now())
  return {
    now,
    setTimeout: (fn, ms) => base.setTimeout(fn, ms),
    monotonic,
    anchor(epochMs) {
      anchor = { epochMs, at: monotonic() }
    },
    release() {
      anchor = null
    },
    offsetMs: () => (anchor ? Math.round(now() - base.now()) : 0),
    anchored: () => anchor !== null,
    system: () => base.now(),
  }
}
