/**
 * The venue calendar in LevelDB (issue 14): one value under `current` in its own sublevel,
 * written by the scheduling writer in the same synced batch as its audit entry (and any
 * session of that batch), so a change is confirmed only once it is durable (DESIGN §5).
 */
import type { AuditOp } from '../audit/log.js'
import { decoderFor } from '../protocol/codec.js'
import { Calendar } from '../protocol/calendar.js'

export interface StoredCalendar {
  calendar: Calendar
  updated_at: number
  updated_by: string
}

/** The part of a level sublevel (json values) the calendar needs. */
export interface CalendarDb {
  get(key: string): Promise<unknown>
}

const KEY = 'current'
const checkCalendar = decoderFor(Calendar)

/** The stored calendar, or undefined on a fresh install (or a value that no longer fits the schema, logged by the caller). */
export async function loadCalendar(db: CalendarDb): Promise<{ stored?: StoredCalendar; problem?: string }> {
  const raw = (await db.get(KEY).catch(() => undefined)) as Partial<StoredCalendar> | undefined
  if (raw === undefined || raw === null) return {}
  const checked = checkCalendar.check(raw.calendar)
  if (!checked.ok) return { problem: checked.message }
  return { stored: { calendar: checked.value, updated_at: Number(raw.updated_at) || 0, updated_by: String(raw.updated_by ?? '') } }
}

/** The batch operation that stores `value` (a sibling sublevel: it rides in the sessions' batch). */
export function calendarOp(db: CalendarDb, value: StoredCalendar): AuditOp {
  return { type: 'put', key: KEY, value, sublevel: db as never }
}
