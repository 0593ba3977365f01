/**
 * The enrollment window ("permit join", issue 16): shut unless staff opened it, for minutes at
 * most, on the injected clock. Pure state plus one timer; the owner is told when it shuts by
 * itself so it can drop the enrollment logins and audit it.
 */
import type { Clock } from '../lib/clock.js'

export interface EnrollmentWindow {
  /** opens (or extends) until now + minutes; returns the closing time (epoch ms) */
  open(minutes: number): number
  close(): void
  isOpen(): boolean
  /** epoch ms it closes at, null when shut */
  until(): number | null
  stop(): void
}

export function createEnrollmentWindow(clock: Clock, onExpired: () => void): EnrollmentWindow {
  let untilMs: number | null = null
  let cancel: (() => void) | undefined
  const disarm = () => {
    cancel?.()
    cancel = undefined
  }
  const isOpen = () => untilMs !== null && clock.now() < untilMs
  return {
    open(minutes) {
      disarm()
      const at = clock.now() + minutes * 60_000
      untilMs = at
      cancel = clock.setTimeout(() => {
        cancel = undefined
        if (untilMs === at) {
          untilMs = null
          onExpired()
        }
      }, minutes * 60_000)
      return at
    },
    close() {
      disarm()
      untilMs = null
    },
    isOpen,
    until: () => (isOpen() ? untilMs : null),
    stop: disarm,
  }
}
