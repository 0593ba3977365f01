/**
 * Free slots for a walk-up or a booking: N adjacent bays for a duration, nearest a preferred
 * start (DESIGN §1 kiosk "pick bays and duration"). PURE. Starts lie on the slot grid of
 * local wall time, except that a walk-up (preferred start now) may start right now.
 */
import type { BayProblem, SessionRecord } from '../protocol/messages.js'
import type { BookingChannel } from '../protocol/calendar.js'
import type { CompiledCalendar } from './calendar.js'
import { findConflict } from './rules.js'
import { problemAt } from './sellable.js'
import { nextSlotBoundary } from './tz.js'
import type { AvailabilityOption } from './types.js'

export interface AvailabilityInput {
  bays: number
  durationS: number
  /** preferred start, epoch s */
  nearS: number
  nowS: number
  limit: number
  slotS: number
  bufferS: number
  timeZone: string
  rows: readonly (readonly number[])[]
  sessionsOn: (bays: readonly number[]) => Iterable<SessionRecord>
  /** how far from the preferred start to look, s (default one day) */
  horizonS?: number
  /** the venue calendar (issue 14): options lie inside its hours and outside closed windows */
  calendar: CompiledCalendar
  /** who asks: walk-in-only windows are offered to kiosk and staff, not to reservations */
  channel: BookingChannel
  /** bays that cannot dispense now (issue 11): never offered while the problem lasts */
  problems?: ReadonlyMap<number, BayProblem>
}

/** Candidate starts ordered by distance from the preferred start (earlier first on ties). */
export function candidateStarts(input: AvailabilityInput): number[] {
  const { nearS, nowS, slotS, timeZone } = input
  const horizon = input.horizonS ?? 86_400
  const near = Math.max(nearS, nowS)
  const out: number[] = nearS <= nowS ? [nowS] : []
  const lowest = Math.max(nowS, near - horizon)
  for (let t = nextSlotBoundary(timeZone, lowest, slotS); t <= near + horizon; t += slotS) {
    if (t !== nowS) out.push(t)
  }
  return out.sort((a, b) => Math.abs(a - near) - Math.abs(b - near) || a - b)
}

export function findAvailability(input: AvailabilityInput): AvailabilityOption[] {
  const options: AvailabilityOption[] = []
  const problems = input.problems ?? new Map<number, BayProblem>()
  for (const start of candidateStarts(input)) {
    const end = start + input.durationS
    if (input.calendar.outsideHours(start, end)) continue
    const occurrences = input.calendar.occurrencesOver(start, end)
    for (const row of input.rows) {
      // Non-overlapping windows per row, so the options offer different bays.
      for (let i = 0; i + input.bays <= row.length; i++) {
        const window = row.slice(i, i + input.bays)
        const candidate = { machine_id: window, start_time: start, end_time: end }
        const blocked = window.some(
          (bay) =>
            problemAt(problems.get(bay), start) !== undefined ||
            (occurrences.length > 0 && input.calendar.refusal([bay], start, end, input.channel, { hours: false, occurrences }) !== undefined) ||
            findConflict(input.sessionsOn([bay]), candidate, input.bufferS),
        )
        if (blocked) continue
        options.push({ machine_id: [...window], start_time: start, end_time: end })
        if (options.length >= input.limit) return options
        i += input.bays - 1
      }
    }
  }
  return options
}
