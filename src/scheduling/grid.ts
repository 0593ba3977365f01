/**
 * The 5-minute schedule of one local date (DESIGN §4 Request `schedule`). PURE.
 *
 * Rows are the slots of the date in HUB_TIMEZONE (or of the opening hours), each labelled with
 * the wall-clock "HH:MM" at which it starts. Slots are built as instants from the local start
 * of the day, so DST days come out right: the spring-forward day has 23 hours (London
 * 2026-03-29: 00:55 is followed by 02:00) and the fall-back day 25 hours, on which the
 * repeated hour appears twice with the same labels (London 2026-10-25: 01:00-01:55 BST, then
 * 01:00-01:55 GMT). Labels are what a wall clock shows; the row order tells the two apart.
 */
import type { Schedule, ScheduleCell, SessionRecord, SlotStatus } from '../protocol/messages.js'
import { windowOfDate } from './hours.js'
import { clockAt, dayBounds } from './tz.js'

/** Slot starts (epoch s) of a local date, optionally within opening hours 'HH:MM-HH:MM'. */
export function slotStarts(date: string, timeZone: string, slotMinutes: number, openingHours: string | null): number[] {
  const slotS = slotMinutes * 60
  let { from, to } = dayBounds(timeZone, date)
  if (openingHours) ({ open: from, close: to } = windowOfDate(timeZone, openingHours, date))
  const out: number[] = []
  for (let t = from; t < to; t += slotS) out.push(t)
  return out
}

// When two sessions share a slot (neither on the grid), the cell shows the most pressing one.
const RANK: Record<SlotStatus, number> = { available: 0, unavailable: 0, reserved: 1, maintenance: 2, active: 3 }

/** Completed sessions still show as taken (`reserved`); cancelled ones free their slots. */
function cellStatus(s: SessionRecord): SlotStatus | undefined {
  switch (s.status) {
    case 'cancelled':
      return undefined
    case 'active':
      return 'active'
    case 'maintenance':
      return 'maintenance'
    default:
      return 'reserved'
  }
}

/** Bays that cannot be sold now (issue 11): free slots from now until `until` (null: on) show `unavailable`. */
export interface Unsellable {
  nowS: number
  bays: ReadonlyMap<number, { until: number | null; reason: string }>
}

export function buildScheduleGrid(
  date: string,
  timeZone: string,
  slotMinutes: number,
  openingHours: string | null,
  machines: readonly number[],
  sessions: Iterable<SessionRecord>,
): Schedule {
  const slotS = slotMinutes * 60
  const starts = slotStarts(date, timeZone, slotMinutes, openingHours)
  const column = new Map(machines.map((id, i) => [id, i]))
  const cells: ScheduleCell[][] = starts.map(() => machines.map((machine_id) => ({ machine_id, status: 'available' as SlotStatus })))
  const from = starts[0] ?? 0
  const to = from + starts.length * slotS
  for (const s of sessions) {
    const status = cellStatus(s)
    if (!status || s.end_time <= from || s.start_time >= to) continue
    const first = Math.floor((Math.max(s.start_time, from) - from) / slotS)
    const last = Math.ceil((Math.min(s.end_time, to) - from) / slotS)
    for (const bay of s.machine_id) {
      const col = column.get(bay)
      if (col === undefined) continue
      for (let i = first; i < last; i++) {
        const cell = cells[i]![col]!
        if (RANK[status] > RANK[cell.status]) cells[i]![col] = { machine_id: bay, status, session_id: s.session_id }
      }
    }
  }
  return {
    date,
    slot_minutes: slotMinutes,
    machines: [...machines],
    schedule: starts.map((t, i) => [clockAt(timeZone, t), ...cells[i]!]),
  }
}

/**
 * The grid with unsellable bays laid over it: a copy (the cached grid is shared), rows changed
 * only where a free slot from now on cannot be sold. `starts` are the grid's slot instants.
 */
export function overlayUnsellable(grid: Schedule, starts: readonly number[], slotS: number, u: Unsellable): Schedule {
  const column = new Map(grid.machines.map((id, i) => [id, i + 1]))
  const schedule = grid.schedule.map((row, i) => {
    const t = starts[i]
    // Slots already over stay as they were; the current one and later ones cannot be sold.
    if (t === undefined || t + slotS <= u.nowS) return row
    let copy: typeof row | undefined
    for (const [bay, { until, reason }] of u.bays) {
      const col = column.get(bay)
      if (col === undefined || (until !== null && t >= until)) continue
      const cell = row[col] as ScheduleCell | undefined
      if (cell?.status !== 'available') continue
      copy ??= row.slice()
      copy[col] = { machine_id: bay, status: 'unavailable', reason }
    }
    return copy ?? row
  })
  return { ...grid, schedule }
}
