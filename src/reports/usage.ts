/**
 * Utilization arithmetic (issue 13), PURE: sessions in, per-day and per-hour-of-week figures out.
 * "Sold" is bay time of reserved, active and completed sessions (a group booking sells each of its
 * bays); maintenance blocks count as blocked; cancelled sessions count for nothing. A session is
 * clipped to each day (or hour) it overlaps, so one running past midnight counts on both days.
 * Each session is added once as it streams by: memory is per day and bay, never per session.
 */
import type { SessionRecord } from '../protocol/messages.js'
import type { LocalTime } from './local-time.js'

/** A session never lasts longer (protocol: duration at most 7 days): how far back to look for overlaps. */
export const MAX_SESSION_S = 7 * 86_400

const SOLD = new Set<SessionRecord['status']>(['reserved', 'active', 'completed'])
export const isSold = (s: SessionRecord) => SOLD.has(s.status)

/** Largest index i with starts[i] <= t (starts ascending); -1 when t is before all. */
function bucketOf(starts: readonly number[], t: number): number {
  let lo = 0
  let hi = starts.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (starts[mid]! <= t) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

/** Adds the overlap of [s, e) with each bucket [starts[i], starts[i+1]) (last ends at `end`). */
function spread(starts: readonly number[], end: number, s: number, e: number, add: (bucket: number, seconds: number) => void): void {
  const lo = Math.max(s, starts[0] ?? end)
  const hi = Math.min(e, end)
  if (!(hi > lo)) return
  for (let i = bucketOf(starts, lo); i < starts.length; i++) {
    const bStart = starts[i]!
    const bEnd = i + 1 < starts.length ? starts[i + 1]! : end
    if (bStart >= hi) break
    const seconds = Math.min(hi, bEnd) - Math.max(lo, bStart)
    if (seconds > 0) add(i, seconds)
  }
}

export interface DayUsage {
  date: string
  /** sessions (not bays) sold that start this day */
  sessions: number
  /** per bay (index of machineIds): seconds sold and blocked on this day */
  sold: Float64Array
  blocked: Float64Array
  /** per bay: sessions starting this day that hold the bay */
  bookings: Uint32Array
  /** seconds each bay could be sold this day (opening hours, or the whole local day) */
  openS: number
  /** sum of the price port over the sessions starting this day; null without a price port */
  takings: number | null
}

export interface UsageDeps {
  /** the days, in order, with their bounds (epoch s) and the seconds each bay is open */
  days: ReadonlyArray<{ date: string; from: number; to: number; openS: number }>
  machineIds: readonly number[]
  local: LocalTime
  /** price of a sold session in minor units (payments plug in here); absent = takings unknown */
  priceOf?: ((session: SessionRecord) => number | null | undefined) | undefined
}

export function createDailyUsage({ days, machineIds, local, priceOf }: UsageDeps) {
  const bayIndex = new Map(machineIds.map((id, i) => [id, i]))
  const starts = days.map((d) => d.from)
  const end = days.length > 0 ? days[days.length - 1]!.to : 0
  const byDate = new Map<string, number>(days.map((d, i) => [d.date, i]))
  const out: DayUsage[] = days.map((d) => ({
    date: d.date,
    sessions: 0,
    sold: new Float64Array(machineIds.length),
    blocked: new Float64Array(machineIds.length),
    bookings: new Uint32Array(machineIds.length),
    openS: d.openS,
    takings: priceOf ? 0 : null,
  }))
  return {
    add(s: SessionRecord) {
      if (s.status === 'cancelled') return
      const sold = isSold(s)
      if (!sold && s.status !== 'maintenance') return // e.g. `held`: not sold yet, not blocked
      const bays = s.machine_id.map((id) => bayIndex.get(id)).filter((i): i is number => i !== undefined)
      spread(starts, end, s.start_time, s.end_time, (day, seconds) => {
        for (const b of bays) (sold ? out[day]!.sold : out[day]!.blocked)[b]! += seconds
      })
      if (!sold) return
      const day = byDate.get(local.date(s.start_time))
      if (day === undefined) return
      const d = out[day]!
      d.sessions++
      for (const b of bays) d.bookings[b]!++
      if (d.takings !== null) d.takings += Number(priceOf?.(s) ?? 0) || 0
    },
    result: (): readonly DayUsage[] => out,
  }
}

export const HOURS_PER_WEEK = 168

/** Seconds sold per bay and hour of the week over [from, to), divided by the time each hour-of-week cell spans. */
export function createHeatmap({ from, to, machineIds, local }: { from: number; to: number; machineIds: readonly number[]; local: LocalTime }) {
  const bayIndex = new Map(machineIds.map((id, i) => [id, i]))
  // The local hours of the window: starts where the wall clock shows HH:00 (DST days have 23 or 25).
  const starts: number[] = []
  const cellOf: number[] = []
  const span = new Float64Array(HOURS_PER_WEEK)
  for (let t = from; t < to; ) {
    const intoHour = (((t + local.offset(t)) % 3600) + 3600) % 3600
    const next = Math.min(to, t + 3600 - intoHour)
    starts.push(t)
    cellOf.push(local.hourOfWeek(t))
    span[local.hourOfWeek(t)]! += next - t
    t = next
  }
  const sold = machineIds.map(() => new Float64Array(HOURS_PER_WEEK))
  return {
    add(s: SessionRecord) {
      if (!isSold(s)) return
      const rows = s.machine_id.map((id) => bayIndex.get(id)).filter((i): i is number => i !== undefined)
      spread(starts, to, s.start_time, s.end_time, (hour, seconds) => {
        for (const r of rows) sold[r]![cellOf[hour]!]! += seconds
      })
    },
    /** per bay: 168 fractions 0..1 (Monday 00:00 first), 3 decimals */
    result: () => sold.map((row) => Array.from(row, (v, i) => (span[i]! > 0 ? Math.round((v / span[i]!) * 1000) / 1000 : 0))),
    soldHours: () => sold.map((row) => row.reduce((a, b) => a + b, 0) / 3600),
  }
}
