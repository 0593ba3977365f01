/**
 * The booking rule and the session lifecycle (DESIGN §5). PURE: no I/O, no clock, no ids;
 * time comes in as `nowS` (epoch seconds). service.ts, availability.ts and grid.ts build on it.
 */
import { err, ok, type Result } from '../lib/result.js'
import type { DesiredState, SessionRecord } from '../protocol/messages.js'
import type { SchedulingErrorCode } from './types.js'
import { clockAt } from './tz.js'

export type Phase = 'held' | 'reserved' | 'active' | 'completed' | 'cancelled'

/** What the conflict rule needs of a session or a candidate. */
export interface Booking {
  session_id?: number
  machine_id: readonly number[]
  start_time: number
  end_time: number
}

export interface Conflict {
  session: SessionRecord
  bay: number
}

/**
 * DESIGN §5: two sessions conflict on a bay when `[start - buffer, end + buffer)` overlap.
 * We read the buffer as the gap required between two sessions (README: "gap required
 * between two sessions on one bay"): the candidate's buffered interval must not overlap the
 * other's booked interval. The test is symmetric, and with buffer 0 touching intervals
 * (one ends when the other starts) do not conflict.
 */
export function overlaps(a: Booking, b: Booking, bufferS: number): boolean {
  return a.start_time - bufferS < b.end_time && b.start_time < a.end_time + bufferS
}

/** Cancelled sessions hold nothing; every other session holds its bays for its interval. */
export function holdsBays(s: SessionRecord): boolean {
  return s.status !== 'cancelled'
}

/** The first session (by start) that conflicts with `candidate` on one of its bays; itself excluded. */
export function findConflict(existing: Iterable<SessionRecord>, candidate: Booking, bufferS: number): Conflict | undefined {
  const bays = new Set(candidate.machine_id)
  let found: Conflict | undefined
  for (const s of existing) {
    if (s.session_id === candidate.session_id || !holdsBays(s) || !overlaps(candidate, s, bufferS)) continue
    const bay = s.machine_id.find((id) => bays.has(id))
    if (bay === undefined) continue
    if (!found || s.start_time < found.session.start_time) found = { session: s, bay }
  }
  return found
}

/** "bay 2 is taken by session 811 (10:30-11:30)": names the session and the bay (DESIGN §4). */
export function describeConflict(conflict: Conflict, timeZone: string): string {
  const s = conflict.session
  const what = s.status === 'maintenance' ? 'blocked for maintenance by session' : 'taken by session'
  return `bay ${conflict.bay} is ${what} ${s.session_id} (${clockAt(timeZone, s.start_time)}-${clockAt(timeZone, s.end_time)})`
}

/**
 * Bays of a booking: known, no repeats, and for a group all on one row of HUB_LAYOUT and
 * next to each other. Returns them in row order.
 */
export function checkBays(
  ids: readonly number[],
  known: ReadonlySet<number>,
  rows: readonly (readonly number[])[],
): Result<number[], SchedulingErrorCode> {
  const unknown = ids.find((id) => !known.has(id))
  if (unknown !== undefined) return err('MACHINE_UNKNOWN', `machine_id: bay ${unknown} is not served by this hub`, 'machine_id')
  if (new Set(ids).size !== ids.length) return err('SESSION_INVALID', 'machine_id: a bay is listed twice', 'machine_id')
  if (ids.length === 1) return ok([...ids])
  const row = rows.find((r) => r.includes(ids[0]!))!
  const outside = ids.find((id) => !row.includes(id))
  if (outside !== undefined) {
    return err('BAYS_NOT_ADJACENT', `machine_id: bays ${ids[0]} and ${outside} are in different rows; a group books neighbouring bays of one row`, 'machine_id')
  }
  const positions = ids.map((id) => row.indexOf(id)).sort((a, b) => a - b)
  const first = positions[0]!
  const last = positions[positions.length - 1]!
  if (last - first + 1 !== ids.length) {
    const gap = row.slice(first, last + 1).filter((id) => !ids.includes(id))
    return err('BAYS_NOT_ADJACENT', `machine_id: bays ${ids.join(', ')} are not next to each other (bay ${gap.join(', ')} lies between)`, 'machine_id')
  }
  return ok(positions.map((p) => row[p]!))
}

/**
 * How far ahead anything may be booked or asked about (issue 10: bounded times). One rule for
 * both doors: HTTP and MQTT reach it through the same module calls.
 */
export const MAX_AHEAD_DAYS = 400
export const MAX_AHEAD_S = MAX_AHEAD_DAYS * 86_400

/**
 * DESIGN §4: a start in the past by less than one slot means "now"; older starts are refused,
 * and so are starts more than MAX_AHEAD_DAYS ahead (the window is now − 1 slot … now + 400 days).
 */
export function normalizeStart(startS: number, nowS: number, slotS: number): Result<number, SchedulingErrorCode> {
  if (startS > nowS + MAX_AHEAD_S) {
    return err('SESSION_INVALID', `start_time: more than ${MAX_AHEAD_DAYS} days ahead (bookings open at most ${MAX_AHEAD_DAYS} days in advance)`, 'start_time')
  }
  if (startS >= nowS) return ok(startS)
  if (nowS - startS < slotS) return ok(nowS)
  return err('SESSION_INVALID', `start_time: ${Math.round(nowS - startS)} s in the past (a start may be at most one slot, ${slotS} s, late)`, 'start_time')
}

/**
 * Where a session is in its life at `nowS`. Completed and cancelled are final, so an ended
 * session never restarts when the clock steps back; a started session stays active until
 * its end even if the clock steps back before its start. Maintenance blocks follow the
 * same phases by time (their stored status stays `maintenance`).
 */
export function phaseAt(s: SessionRecord, nowS: number): Phase {
  if (s.status === 'cancelled' || s.status === 'completed') return s.status
  // issue 12: a hold waits for its payment, never dispenses, and ends unpaid at hold_until.
  if (s.status === 'held') return nowS >= Math.min(s.hold_until ?? s.end_time, s.end_time) ? 'cancelled' : 'held'
  // A reservation nobody checked in for is released (HUB_NO_SHOW_POLICY=release).
  if (noShowDue(s, nowS)) return 'cancelled'
  if (nowS >= s.end_time) return 'completed'
  if (s.status === 'active' || nowS >= s.start_time) return 'active'
  return 'reserved'
}

/** A reservation still waiting for its check-in at `nowS`, past its no-show time. */
export function noShowDue(s: SessionRecord, nowS: number): boolean {
  return s.no_show_at !== undefined && s.checked_in_at === undefined && nowS >= s.no_show_at
}

/**
 * What the schedule requires of one machine at `nowS`: active until the session's end, or
 * maintenance until the block's end; undefined when nothing runs (the machine should idle).
 */
export function desiredStateFor(machineId: number, sessions: Iterable<SessionRecord>, nowS: number): DesiredState | undefined {
  let chosen: SessionRecord | undefined
  for (const s of sessions) {
    if (!s.machine_id.includes(machineId) || phaseAt(s, nowS) !== 'active') continue
    // Sessions never overlap; if they ever did, a maintenance block wins (the safe state).
    if (!chosen || (s.status === 'maintenance' && chosen.status !== 'maintenance')) chosen = s
  }
  if (!chosen) return undefined
  return {
    status: chosen.status === 'maintenance' ? 'maintenance' : 'active',
    session_id: chosen.session_id,
    scheduled_until: chosen.end_time,
    source: 'schedule',
    holder: `session ${chosen.session_id}`,
  }
}

/** The next instant after `nowS` at which some session changes phase; undefined when none will. */
export function nextTransition(sessions: Iterable<SessionRecord>, nowS: number): number | undefined {
  let next: number | undefined
  const consider = (t: number) => {
    if (t > nowS && (next === undefined || t < next)) next = t
  }
  for (const s of sessions) {
    const phase = phaseAt(s, nowS)
    if (phase === 'held') consider(Math.min(s.hold_until ?? s.end_time, s.end_time))
    if (phase === 'reserved') consider(s.start_time)
    if (phase === 'reserved' || phase === 'active') consider(s.end_time)
    if ((phase === 'reserved' || phase === 'active') && s.no_show_at !== undefined && s.checked_in_at === undefined) consider(s.no_show_at)
  }
  return next
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/**
 * A schedule date: 'YYYY-MM-DD' that exists in the calendar (2026-02-30 does not) and lies
 * within MAX_AHEAD_DAYS of `today` either way (history is kept as long as bookings open ahead).
 * `field` names the input in the refusal (`date`).
 */
export function checkDate(date: string, today: string, field = 'date'): Result<string, SchedulingErrorCode> {
  const m = DATE.exec(date)
  const invalid = (why: string) => err('SESSION_INVALID', `${field}: "${date.slice(0, 40)}" ${why}`, field)
  if (!m) return invalid('is not a date (YYYY-MM-DD)')
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const utc = Date.UTC(y, mo - 1, d)
  const back = new Date(utc)
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return invalid('does not exist in the calendar')
  const todayUtc = Date.parse(`${today}T00:00:00Z`)
  const days = Math.round((utc - todayUtc) / 86_400_000)
  if (Math.abs(days) > MAX_AHEAD_DAYS) return invalid(`is more than ${MAX_AHEAD_DAYS} days from today (${today})`)
  return ok(date)
}
