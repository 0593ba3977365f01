/**
 * The compact schedule reply (issue 17): a slot grid as runs per bay, and back. PURE.
 *
 * A 288-row grid repeats `{"machine_id":N,"status":"available"}` in every cell (~11 KB per bay
 * and day); the runs of a bay are its taken and not-for-sale stretches only, so a busy day of
 * 80 bays fits in a few KB. `expandRuns(toRuns(g))` is `g` again, cell for cell (property test
 * in test/scheduling/grid-runs.test.ts); the labels come back from `first_slot` and `timezone`.
 */
import { RUN_STATUSES, type Schedule, type ScheduleCell, type ScheduleRun, type ScheduleRuns, type SlotStatus } from '../protocol/messages.js'
import { clockAt } from './tz.js'

const STATUS_INDEX = new Map(RUN_STATUSES.map((s, i) => [s, i]))
/** Statuses whose cell names a session; the others that are not `available` carry a reason. */
const TAKEN = new Set<SlotStatus>(['held', 'reserved', 'active', 'maintenance'])

/** The runs of `grid`; `timezone` is the zone its labels were written in (HUB_TIMEZONE). */
export function toRuns(grid: Schedule, timezone: string): ScheduleRuns {
  const reasons: string[] = []
  const reasonIndex = new Map<string, number>()
  const refOf = (cell: ScheduleCell): number | undefined => {
    if (TAKEN.has(cell.status)) return cell.session_id
    if (cell.reason === undefined) return undefined
    let i = reasonIndex.get(cell.reason)
    if (i === undefined) {
      i = reasons.push(cell.reason) - 1
      reasonIndex.set(cell.reason, i)
    }
    return i
  }
  const rows = grid.schedule
  const runs = grid.machines.map((_, c) => {
    const out: ScheduleRun[] = []
    let open: { first: number; count: number; status: number; ref: number | undefined; cell: ScheduleCell } | undefined
    const close = () => {
      if (open) out.push(open.ref === undefined ? [open.first, open.count, open.status] : [open.first, open.count, open.status, open.ref])
      open = undefined
    }
    for (let r = 0; r < rows.length; r++) {
      const cell = rows[r]![c + 1] as ScheduleCell
      if (open && sameCell(open.cell, cell)) {
        open.count++
        continue
      }
      close()
      if (cell.status === 'available') continue
      open = { first: r, count: 1, status: STATUS_INDEX.get(cell.status)!, ref: refOf(cell), cell }
    }
    close()
    return out
  })
  return {
    format: 'runs',
    date: grid.date,
    slot_minutes: grid.slot_minutes,
    ...(grid.first_slot !== undefined && { first_slot: grid.first_slot }),
    slots: rows.length,
    timezone,
    machines: [...grid.machines],
    statuses: [...RUN_STATUSES],
    reasons,
    runs,
  }
}

// Cells are built by grid.ts with these fields only; a run is cells equal in all of them.
const sameCell = (a: ScheduleCell, b: ScheduleCell) => a.status === b.status && a.session_id === b.session_id && a.reason === b.reason

/**
 * The slot rows of a runs reply: what a reader of the seed's format would have received. The
 * reply's own `statuses` table is used, so a reply from a newer hub expands the same way.
 */
export function expandRuns(reply: ScheduleRuns): Schedule {
  const slotS = reply.slot_minutes * 60
  const first = reply.first_slot ?? 0
  const rows: Array<Array<string | ScheduleCell>> = Array.from({ length: reply.slots }, (_, r) => [
    clockAt(reply.timezone, first + r * slotS),
    ...reply.machines.map((machine_id) => ({ machine_id, status: 'available' as SlotStatus })),
  ])
  reply.machines.forEach((machine_id, c) => {
    for (const [from, count, s, ref] of reply.runs[c] ?? []) {
      const status = reply.statuses[s]!
      const cell: ScheduleCell = { machine_id, status }
      if (ref !== undefined) {
        if (TAKEN.has(status)) cell.session_id = ref
        else cell.reason = reply.reasons[ref]!
      }
      for (let r = from; r < from + count && r < rows.length; r++) rows[r]![c + 1] = cell
    }
  })
  return {
    date: reply.date,
    slot_minutes: reply.slot_minutes,
    ...(reply.first_slot !== undefined && { first_slot: reply.first_slot }),
    machines: [...reply.machines],
    schedule: rows,
  }
}
