/**
 * The thin driver around desired.ts (STYLE §2.3): the same code runs on connect, on start-up,
 * on session changes (main.ts calls reconcile), after override changes and when an
 * override's until-time passes. It is idempotent: nothing is sent when the machine already
 * is, or is being brought, where it must be.
 */
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { DesiredState } from '../protocol/messages.js'
import type { MachineTable, Entry } from './machine-table.js'
import type { CommandDriver } from './command-driver.js'
import { targetOf, type Target } from './commands.js'
import { chooseDesired, isLive, needsCommand } from './desired.js'
import type { DesiredStateFn } from './types.js'

/** Re-check at least this often: covers clock steps on a Pi without RTC (STYLE §2.4). */
const MAX_TIMER_MS = 60_000

export interface Reconciler {
  /**
   * `show: false`: the control only, no machine.changed (the caller reconciles again soon).
   * Resolves when the control it sent is on the socket (at once when it sent none); never rejects.
   */
  reconcile(id: number, show?: boolean): Promise<void> | undefined
  /** the schedule's requirement now, never throwing */
  scheduleFor(id: number, nowS: number): DesiredState | undefined
  /** re-arm the one override-expiry timer */
  arm(): void
  stop(): void
}

export interface ReconcilerDeps {
  table: MachineTable
  driver: CommandDriver
  clock: Clock
  log: Logger
  desiredStateFor: DesiredStateFn
}

function reportedTarget(e: Entry): Target | null {
  const r = e.record
  if (r.reported_status === null || r.reported_status === 'error') return null
  return { status: r.reported_status, session_id: r.session_id, scheduled_until: r.scheduled_until }
}

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const { table, driver, clock, log } = deps
  let cancelTimer: (() => void) | null = null
  let stopped = false

  const scheduleFor = (id: number, nowS: number) => {
    try {
      return deps.desiredStateFor(id, nowS)
    } catch (error) {
      log.error({ err: error, machineId: id }, 'desiredStateFor failed; treating as nothing scheduled')
      return undefined
    }
  }

  const reconcile = (id: number, show = true) => {
    const e = table.get(id)
    if (!e || stopped) return undefined
    const nowS = clock.now() / 1000
    e.desired = chooseDesired({ admin: e.record.admin, direct: e.record.direct, schedule: scheduleFor(id, nowS) }, nowS)
    // The control first, then the feeds (issue 17: nothing between the tick and the publish).
    const sent = send(e, id)
    if (show) table.show(id)
    return sent
  }

  const send = (e: Entry, id: number) => {
    // Never queue for an offline machine (DESIGN §4): it gets the state on reconnect.
    if (!e.presence.online || !e.desired) return undefined
    const target = targetOf(e.desired)
    // A machine in error is always sent its state again: a Confirmation is what clears the error.
    if (!needsCommand(target, reportedTarget(e), driver.inFlight(id), e.force || e.record.error !== null)) return undefined
    e.force = false
    return driver.send(id, target).catch((error: unknown) => log.error({ err: error, machineId: id }, 'command send failed'))
  }

  const expire = async () => {
    cancelTimer = null
    const nowS = clock.now() / 1000
    for (const e of [...table.entries()]) {
      const { admin, direct } = e.record
      const dropAdmin = admin !== null && !isLive(admin, nowS)
      const dropDirect = direct !== null && !isLive(direct, nowS)
      if (!dropAdmin && !dropDirect) continue
      const id = e.record.machine_id
      await table
        .update(id, (x) => {
          if (dropAdmin) x.record.admin = null
          if (dropDirect) x.record.direct = null
        })
        .catch((error: unknown) => log.error({ err: error, machineId: id }, 'override expiry write failed'))
      reconcile(id)
    }
    arm()
  }

  const arm = () => {
    cancelTimer?.()
    cancelTimer = null
    if (stopped) return
    let next = Infinity
    for (const e of table.entries()) {
      for (const h of [e.record.admin, e.record.direct]) if (h?.scheduled_until != null) next = Math.min(next, h.scheduled_until)
    }
    if (next === Infinity) return
    const delay = Math.min(Math.max(0, next * 1000 - clock.now()), MAX_TIMER_MS)
    cancelTimer = clock.setTimeout(() => void expire(), delay)
  }

  return {
    reconcile,
    scheduleFor,
    arm,
    stop() {
      stopped = true
      cancelTimer?.()
      cancelTimer = null
    },
  }
}
