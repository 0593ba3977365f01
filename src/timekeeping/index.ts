/**
 * createTimekeeping: time you can trust (issue 15). Polls the time-sync service (time-sync.ts);
 * while the system clock is not synchronised it says so (health, live feed, admin banner, log),
 * and staff may confirm the time from a tablet: the hub's one TrustedClock (src/lib/clock.ts) then
 * runs on that time until the system clock is synchronised, and steps back to it then. Every step
 * of the hub's time, and every step of the system clock seen between two polls, is logged.
 */
import type { Logger } from 'pino'
import type { TrustedClock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import { err, ok, type Result } from '../lib/result.js'
import { CONFIRM_MAX_MS, CONFIRM_MIN_MS, type ClockStatus } from '../protocol/clock.js'
import type { HubEvents } from '../protocol/events.js'
import type { MetricFamily } from '../metrics/index.js'
import type { BootPort, ConfirmationStore } from './confirmation-store.js'
import type { TimeSyncPort, TimeSyncState } from './time-sync.js'

export { createSystemTimeSync, type TimeSyncPort, type TimeSyncState } from './time-sync.js'
export { createConfirmationStore, systemBoot, type BootPort, type ConfirmationStore } from './confirmation-store.js'

export type TimekeepingErrorCode = 'CLOCK_SYNCHRONISED' | 'CLOCK_INVALID'

export interface Timekeeping {
  status(): ClockStatus
  /** staff say the time is `epochMs` now (the tablet's clock) */
  confirm(epochMs: number, by: string): Result<ClockStatus, TimekeepingErrorCode>
  /** resolves when the stored confirmation is written (or cleared) */
  flush(): Promise<void>
  /** Prometheus gauges: hub_clock_trusted, hub_clock_synchronised, hub_clock_offset_seconds */
  metrics(): MetricFamily[]
  /** ask the time-sync service now (also done every poll interval) */
  check(): Promise<ClockStatus>
  start(): Promise<void>
  stop(): void
}

export interface TimekeepingDeps {
  clock: TrustedClock
  timeSync: TimeSyncPort
  events: EventBus<HubEvents>
  log: Logger
  /** how often the time-sync service is asked (default 30 s) */
  pollMs?: number
  /** keeps a confirmation across a hub restart in the same boot (absent: not kept) */
  store?: ConfirmationStore
  boot?: BootPort
}

/** A difference between wall and monotonic time above this between two polls is a step, not drift. */
const STEP_MS = 1000
const DEFAULT_POLL_MS = 30_000

export function createTimekeeping(deps: TimekeepingDeps): Timekeeping {
  const { clock, timeSync, events, log } = deps
  const pollMs = deps.pollMs ?? DEFAULT_POLL_MS
  let sync: TimeSyncState = { synchronised: null, service: null, detail: 'not checked yet' }
  let checkedAt: number | null = null
  let confirmed: { at: number; by: string } | null = null
  let last = { system: clock.system(), mono: clock.monotonic() }
  let cancel: (() => void) | null = null
  let stopped = false
  // one write at a time, in order: a save and a later clear never land the other way round
  let writes = Promise.resolve()
  const persist = (what: ((s: ConfirmationStore) => Promise<void>) | undefined) => {
    const store = deps.store
    if (!store || !what) return
    writes = writes.then(() => what(store)).catch((error: unknown) => log.error({ err: error }, 'clock confirmation store failed'))
  }

  /** A confirmation stored in this boot (the hub restarted, the Pi did not): resume it. */
  const resume = () => {
    const stored = deps.store?.load()
    const bootId = deps.boot?.bootId()
    const uptime = deps.boot?.uptimeMs()
    if (!stored || !bootId || uptime == null) return
    if (stored.boot_id !== bootId || uptime < stored.uptime_ms) {
      persist((st) => st.clear())
      return
    }
    const hubBefore = clock.now()
    clock.anchor(stored.epoch_ms + (uptime - stored.uptime_ms))
    confirmed = { at: stored.confirmed_at, by: stored.by }
    const stepMs = Math.round(clock.now() - hubBefore)
    log.warn({ stepMs, by: stored.by, hubNow: new Date(clock.now()).toISOString() }, 'clock step: the staff-confirmed time resumed after a hub restart (same boot)')
    announce(stepMs, 'staff-confirmed time resumed')
  }

  const status = (): ClockStatus => {
    const anchored = clock.anchored()
    return {
      synchronised: sync.synchronised,
      service: sync.service,
      source: anchored ? 'staff' : sync.synchronised === true ? 'ntp' : 'system',
      trusted: anchored || sync.synchronised !== false,
      offset_ms: clock.offsetMs(),
      now: clock.now() / 1000,
      system_now: clock.system() / 1000,
      confirmed_at: anchored && confirmed ? confirmed.at : null,
      confirmed_by: anchored && confirmed ? confirmed.by : null,
      checked_at: checkedAt,
      detail: sync.detail,
    }
  }

  const announce = (stepMs: number, reason: string) => events.emit('clock.changed', { clock: status(), stepMs, reason })

  /** A step of the system clock since the last look (fake-hwclock at boot, an NTP step, a person). */
  const watchSystemSteps = () => {
    const now = { system: clock.system(), mono: clock.monotonic() }
    const stepMs = Math.round(now.system - last.system - (now.mono - last.mono))
    last = now
    if (Math.abs(stepMs) < STEP_MS) return
    const anchored = clock.anchored()
    log.warn(
      { stepMs, systemNow: new Date(now.system).toISOString(), hubNow: new Date(clock.now()).toISOString(), kept: anchored },
      anchored ? 'clock step: the system clock moved; the hub keeps the staff-confirmed time' : 'clock step: the system clock moved',
    )
    if (!anchored) announce(stepMs, 'system clock stepped')
  }

  const check = async () => {
    let next: TimeSyncState
    try {
      next = await timeSync.read()
    } catch (error) {
      next = { synchronised: null, service: null, detail: `time-sync check failed: ${(error as Error).message}` }
    }
    watchSystemSteps()
    const before = status()
    sync = next
    checkedAt = clock.now() / 1000
    if (sync.synchronised === true && clock.anchored()) {
      const hubBefore = clock.now()
      clock.release()
      confirmed = null
      persist((st) => st.clear())
      const stepMs = Math.round(clock.now() - hubBefore)
      log.warn({ stepMs, hubNow: new Date(clock.now()).toISOString(), service: sync.service, detail: sync.detail }, 'clock step: the system clock is synchronised; leaving the staff-confirmed time')
      announce(stepMs, 'system clock synchronised')
      return status()
    }
    const after = status()
    if (before.synchronised !== after.synchronised) {
      const fields = { synchronised: after.synchronised, service: sync.service, source: after.source, detail: sync.detail, hubNow: new Date(clock.now()).toISOString() }
      if (!after.trusted) log.warn(fields, 'clock not synchronised: sessions may start at the wrong time; confirm the time on the admin page')
      else log.info(fields, 'clock state')
    }
    if (before.trusted !== after.trusted) announce(0, after.trusted ? 'clock trusted' : 'clock not synchronised')
    return after
  }

  const arm = () => {
    if (stopped) return
    cancel = clock.setTimeout(() => {
      void check().finally(arm)
    }, pollMs)
  }

  return {
    status,
    check,
    flush: () => writes,
    metrics: (): MetricFamily[] => [
      {
        name: 'hub_clock_trusted',
        help: "1 while the hub's time is NTP-synchronised, staff-confirmed or cannot be checked; 0 while it is known to be unsynchronised.",
        type: 'gauge',
        read: () => (status().trusted ? 1 : 0),
      },
      {
        name: 'hub_clock_synchronised',
        help: '1 synchronised, 0 not, -1 no time-sync service answered.',
        type: 'gauge',
        read: () => {
          const { synchronised } = status()
          return synchronised === null ? -1 : synchronised ? 1 : 0
        },
      },
      {
        name: 'hub_clock_offset_seconds',
        help: 'Hub time minus the system clock (a staff-confirmed time), seconds.',
        type: 'gauge',
        read: () => status().offset_ms / 1000,
      },
    ],
    confirm(epochMs, by) {
      if (sync.synchronised === true) {
        return err('CLOCK_SYNCHRONISED', `the system clock is synchronised (${sync.detail}); the hub keeps it`)
      }
      if (!Number.isFinite(epochMs) || epochMs < CONFIRM_MIN_MS || epochMs > CONFIRM_MAX_MS) {
        return err('CLOCK_INVALID', `epoch_ms: must be a time between ${new Date(CONFIRM_MIN_MS).toISOString()} and ${new Date(CONFIRM_MAX_MS).toISOString()}`, 'epoch_ms')
      }
      const hubBefore = clock.now()
      clock.anchor(Math.round(epochMs))
      confirmed = { at: clock.now() / 1000, by }
      const bootId = deps.boot?.bootId()
      const uptime = deps.boot?.uptimeMs()
      if (bootId && uptime != null) {
        const saved = { boot_id: bootId, epoch_ms: clock.now(), uptime_ms: uptime, by, confirmed_at: confirmed.at }
        persist((st) => st.save(saved))
      }
      const stepMs = Math.round(clock.now() - hubBefore)
      log.warn(
        { stepMs, by, offsetMs: clock.offsetMs(), from: new Date(hubBefore).toISOString(), to: new Date(clock.now()).toISOString() },
        'clock step: staff confirmed the time; the hub runs on it until the system clock is synchronised',
      )
      announce(stepMs, `time confirmed by ${by}`)
      return ok(status())
    },
    async start() {
      stopped = false
      last = { system: clock.system(), mono: clock.monotonic() }
      await check()
      if (sync.synchronised !== true) resume()
      else persist((st) => st.clear())
      arm()
    },
    stop() {
      stopped = true
      cancel?.()
      cancel = null
    },
  }
}
