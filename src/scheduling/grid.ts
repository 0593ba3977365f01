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
import type { CompiledCalendar } from './calendar.js'
import { clockAt } from './tz.js'

/**
 * Slot starts (epoch s) of a local date: its opening hours in the calendar (issue 14), or, on a
 * day closed all day, its weekday's usual hours (else the whole day) so the closure can be shown.
 */
export function slotStarts(date: string, slotMinutes: number, calendar: CompiledCalendar): number[] {
  const slotS = slotMinutes * 60
  const { from, to } = calendar.gridSpan(date)
  const out: number[] = []
  for (let t = from; t < to; t += slotS) out.push(t)
  return out
}

// When two sessions share a slot (neither on the grid), the cell shows the most pressing one.
const RANK: Record<SlotStatus, number> = { available: 0, unavailable: 0, closed: 0, walk_in_only: 0, held: 1, reserved: 1, maintenance: 2, active: 3 }

/** Completed sessions still show as taken (`reserved`); cancelled ones free their slots. */
function cellStatus(s: SessionRecord): SlotStatus | undefined {
  switch (s.status) {
    case 'cancelled':
      return undefined
    case 'active':
      return 'active'
    case 'maintenance':
      return 'maintenance'
    case 'held':
      return 'held' // waiting for its payment (issue 12): taken for others
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
  slotMinutes: number,
  calendar: CompiledCalendar,
  machines: readonly number[],
  sessions: Iterable<SessionRecord>,
): Schedule {
  const timeZone = calendar.timeZone
  const slotS = slotMinutes * 60
  const starts = slotStarts(date, slotMinutes, calendar)
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
  shadeCalendar(cells, starts, slotS, machines, calendar, date)
  return {
    date,
    slot_minutes: slotMinutes,
    ...(starts.length > 0 && { first_slot: starts[0] }),
    machines: [...machines],
    schedule: starts.map((t, i) => [clockAt(timeZone, t), ...cells[i]!]),
  }
}

/**
 * Free cells the calendar closes or keeps for walk-ins (issue 14) show `closed` / `walk_in_only`
 * with the reason; taken cells keep their status, so old readers see what they always saw there.
 */
function shadeCalendar(cells: ScheduleCell[][], starts: readonly number[], slotS: number, machines: readonly number[], calendar: CompiledCalendar, date: string) {
  if (starts.length === 0) return
  const closedDay = calendar.gridSpan(date).closed
  if (closedDay !== null) {
    for (const row of cells) row.forEach((cell, col) => cell.status === 'available' && (row[col] = { machine_id: cell.machine_id, status: 'closed', reason: closedDay }))
    return
  }
  const from = starts[0]!
  const to = starts[starts.length - 1]! + slotS
  const occurrences = calendar.occurrencesOver(from, to)
  if (!occurrences.some((o) => o.window.kind === 'closed' || o.window.kind === 'walk_in_only')) return
  machines.forEach((bay, col) => {
    const mine = occurrences.filter((o) => (o.window.kind === 'closed' || o.window.kind === 'walk_in_only') && o.bays.some(([lo, hi]) => bay >= lo && bay <= hi))
    if (mine.length === 0) return
    starts.forEach((t, i) => {
      const cell = cells[i]![col]!
      if (cell.status !== 'available') return
      const state = calendar.stateOf(bay, t, t + slotS, mine)
      if (state && (state.kind === 'closed' || state.kind === 'walk_in_only')) cells[i]![col] = { machine_id: bay, status: state.kind, reason: state.reason }
    })
  })
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
