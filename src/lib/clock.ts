/**
 * Time as an injected dependency, so domain logic is tested with a fake clock (STYLE §2.4).
 * `now()` is epoch milliseconds; `setTimeout` returns its own cancel function.
 */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): () => void
}

// setTimeout overflows above 2^31-1 ms and then fires at once; callers re-arm instead.
const MAX_TIMER_MS = 2_147_483_647

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS))
    return () => clearTimeout(timer)
  },
}

/** Epoch seconds (float), the unit of every time on the wire (DESIGN §4). */
export function nowSeconds(clock: Clock): number {
  return clock.now() / 1000
}
