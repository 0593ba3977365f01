/**
 * A calendar change against the booked sessions (issue 14). PURE. A change that puts a booked
 * session outside what its booking may use (hours, a closed window, a walk-in window for a
 * reservation) is refused unless confirmed, naming those sessions; confirmed, it is accepted
 * and they are listed (handled like a bay going to maintenance).
 */
import type { Actor } from '../protocol/actor.js'
import { actorLabel } from '../protocol/actor.js'
import type { AuditDraft } from '../protocol/audit.js'
import type { CalendarAffected, BookingChannel, Calendar } from '../protocol/calendar.js'
import type { SessionRecord } from '../protocol/messages.js'
import { NodeNames } from '../protocol/topics.js'
import type { CompiledCalendar } from './calendar.js'
import { clockAt } from './tz.js'

/** How a session was booked; records from before issue 14 are judged by their owner. */
export function channelOfRecord(r: SessionRecord): BookingChannel {
  if (r.channel !== undefined) return r.channel
  if (r.origin_node === NodeNames.kiosk) return 'kiosk'
  if (r.origin_node === NodeNames.admin) return 'staff'
  return 'reservation'
}

/** The channel of a submission when the door did not say: admins are staff, the kiosk node is the kiosk. */
export function defaultChannel(origin: string, isAdmin: boolean): BookingChannel {
  if (isAdmin) return 'staff'
  return origin === NodeNames.kiosk ? 'kiosk' : 'reservation'
}

/**
 * Sessions still to run that the new calendar refuses but the old one did not (a booking an
 * admin forced against the old calendar is not news). A running session is judged on the time it has left.
 */
export function affectedBy(records: Iterable<SessionRecord>, before: CompiledCalendar, after: CompiledCalendar, nowS: number): CalendarAffected[] {
  const out: CalendarAffected[] = []
  for (const r of records) {
    if ((r.status !== 'reserved' && r.status !== 'active') || r.end_time <= nowS) continue
    const from = Math.max(r.start_time, Math.min(nowS, r.end_time - 1))
    const channel = channelOfRecord(r)
    const refused = after.refusal(r.machine_id, from, r.end_time, channel)
    if (!refused || before.refusal(r.machine_id, from, r.end_time, channel)) continue
    out.push({
      session_id: r.session_id,
      machine_id: [...r.machine_id],
      start_time: r.start_time,
      end_time: r.end_time,
      origin_node: r.origin_node,
      reason: refused.message.replace(/^[a-z_]+: /, ''),
    })
  }
  return out.sort((a, b) => a.start_time - b.start_time || a.session_id - b.session_id)
}

/** "session 12 (bays 4, Tue 08:00-09:00): bay 4 is closed ...", at most `limit` named. */
export function describeAffected(affected: readonly CalendarAffected[], timeZone: string, limit = 10): string {
  const named = affected.slice(0, limit).map((a) => `session ${a.session_id} (bay ${a.machine_id.join(',')}, ${clockAt(timeZone, a.start_time)}-${clockAt(timeZone, a.end_time)}): ${a.reason}`)
  const more = affected.length > limit ? `; and ${affected.length - limit} more` : ''
  return `${named.join('; ')}${more}`
}

export function calendarDraft(before: Calendar | null, after: Calendar, actor: Actor, nowS: number, affected: readonly CalendarAffected[], note?: string): AuditDraft {
  const bays = [...new Set(affected.flatMap((a) => a.machine_id))].sort((a, b) => a - b)
  return {
    at: nowS,
    actor: actorLabel(actor),
    kind: 'calendar.changed',
    ...(bays.length > 0 && { machine_id: bays }),
    before: before ? { ...before } : null,
    after: { ...after, affected_sessions: affected.map((a) => a.session_id) },
    ...(note !== undefined && { reason: note }),
  }
}
