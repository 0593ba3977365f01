/**
 * The lifecycle timer (STYLE §2.4): one timer on the injected Clock, re-armed to
 * min(next transition, now + 60 s). Each fire re-reads clock.now(), so a wall clock that
 * steps forward or back (a Pi has no RTC; NTP steps it) is caught within a minute, and a
 * far-future session never needs a timer longer than setTimeout can hold.
 */
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'

const HORIZON_S = 60

export interface TickerDeps {
  clock: Clock
  log: Logger
  /** advance phases at clock.now(); resolves with the next transition (epoch s), if any */
  advance: () => Promise<number | undefined>
}

export interface Ticker {
  start(): Promise<void>
  stop(): Promise<void>
  /** a session changed: its next transition is at `atS` (epoch s) */
  consider(atS: number): void
}

export function createTicker({ clock, log, advance }: TickerDeps): Ticker {
  let cancel: (() => void) | null = null
  let armedAt = Infinity
  let running: Promise<void> | null = null
  let again = false
  let stopped = true
  // transitions reported while a step runs (the step may have computed its next one before them)
  let pending = Infinity

  const nowS = () => clock.now() / 1000

  const arm = (nextS: number) => {
    cancel?.()
    const now = nowS()
    armedAt = Math.min(nextS, now + HORIZON_S)
    // Round up: a timer that fires a millisecond early would find nothing due and re-arm.
    const ms = Math.max(0, Math.ceil((armedAt - now) * 1000))
    cancel = clock.setTimeout(fire, ms)
  }

  const runOnce = async () => {
    let next: number | undefined
    try {
      next = await advance()
    } catch (error) {
      log.error({ err: error }, 'session lifecycle step failed; retrying')
      next = nowS() + 1
    }
    if (stopped) return
    if (again) {
      again = false
      return runOnce()
    }
    arm(Math.min(next ?? Infinity, pending))
    pending = Infinity
  }

  function fire(): void {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = runOnce().finally(() => {
      running = null
    })
  }

  return {
    async start() {
      stopped = false
      fire()
      await running
    },
    async stop() {
      stopped = true
      cancel?.()
      cancel = null
      await running
    },
    consider(atS) {
      if (stopped) return
      if (atS <= nowS()) fire()
      else if (running) pending = Math.min(pending, atS)
      else if (atS < armedAt) arm(atS)
    },
  }
}
