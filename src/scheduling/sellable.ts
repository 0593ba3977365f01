/**
 * Sell only what can dispense (issue 11, DESIGN §9 "Sellable"). PURE. A kiosk or reservation
 * booking is refused on a bay the machines module reports unhealthy (admin override or
 * maintenance, error, offline past the grace) and outside the venue calendar (issue 14: opening
 * hours, special days, closed and walk-in windows, calendar.ts); an admin may `force`.
 * Maintenance blocks are never refused here: blocking a broken bay is what staff should do.
 */
import { err, type Err } from '../lib/result.js'
import type { BayProblem, SessionRecord } from '../protocol/messages.js'
import type { BookingChannel } from '../protocol/calendar.js'
import type { CompiledCalendar } from './calendar.js'
import { clockAt } from './tz.js'
import type { SchedulingErrorCode } from './types.js'

/** What the hub wires in from the machines module (src/hub.ts): undefined = the bay can dispense. */
export type BayHealthFn = (machineId: number, nowS: number) => BayProblem | undefined

/** "bay 37 is in maintenance until 18:00 (held by an admin override)": names bay, reason and holder. */
export function describeProblem(bay: number, p: BayProblem, timeZone: string): string {
  const until = p.until !== null ? ` until ${clockAt(timeZone, p.until)}` : ''
  const by = p.holder ? ` (held by ${p.holder})` : ''
  switch (p.reason) {
    case 'maintenance':
      return `bay ${bay} is in maintenance${until}${by}`
    case 'held':
      return `bay ${bay} is held by ${p.holder ?? 'an admin override'}${until}`
    case 'error':
      return `bay ${bay} is in error${p.detail ? `: ${p.detail}` : ''}`
    case 'offline':
      return `bay ${bay} is offline${p.since !== undefined ? ` since ${clockAt(timeZone, p.since)}` : ''}${p.detail ? ` (${p.detail})` : ''}`
  }
}

/** A problem spoils a booking unless it is known to end by the booking's start. */
export function problemAt(p: BayProblem | undefined, startS: number): BayProblem | undefined {
  return p && (p.until === null || p.until > startS) ? p : undefined
}

export interface SellableContext {
  nowS: number
  timeZone: string
  /** the venue calendar in force (calendar.ts) */
  calendar: CompiledCalendar
  /** who books: walk-in windows refuse reservations only */
  channel: BookingChannel
  health: BayHealthFn
}

/**
 * Why a booking (new, or changed from `prev`) cannot be sold; undefined when it can. A change
 * that keeps the start and does not extend keeps what it had: a running session is not refused
 * for shortening on a bay that has since failed.
 */
export function unsellable(record: SessionRecord, prev: SessionRecord | undefined, ctx: SellableContext): Err<SchedulingErrorCode> | undefined {
  const kept = prev !== undefined && prev.start_time === record.start_time && record.end_time <= prev.end_time
  if (kept && record.machine_id.every((b) => prev.machine_id.includes(b))) return undefined
  if (!kept || prev === undefined) {
    const refused = ctx.calendar.refusal(record.machine_id, record.start_time, record.end_time, ctx.channel)
    if (refused) return refused
  } else {
    // Kept span, other bays: only the new bays' windows are new.
    const added = record.machine_id.filter((b) => !prev.machine_id.includes(b))
    const refused = ctx.calendar.refusal(added, record.start_time, record.end_time, ctx.channel, { hours: false })
    if (refused) return refused
  }
  for (const bay of record.machine_id) {
    if (kept && prev.machine_id.includes(bay)) continue
    const problem = problemAt(ctx.health(bay, ctx.nowS), record.start_time)
    if (problem) return err('BAY_UNAVAILABLE', describeProblem(bay, problem, ctx.timeZone), 'machine_id')
  }
  return undefined
}
