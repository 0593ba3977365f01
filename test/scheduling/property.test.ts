/**
 * Thousands of random create/update/cancel operations, all in flight at once against the real
 * service on a real LevelDB, checked against a brute-force oracle replayed in the order the
 * single writer decided them (DESIGN §5: never double-booked, never lost once confirmed).
 */
import t from 'tap'
import type { BayProblem, Session, SessionRecord } from '../../src/protocol/messages.js'
import type { Calendar } from '../../src/protocol/calendar.js'
import { buildWorld } from './world.js'
import { seededRandom } from '../helpers/seeded-random.js'

const ROWS = [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]
const ORIGINS = ['kiosk_interface', 'reservation_interface']

interface Op {
  session: Session
  origin: string
}

function randomOps(count: number, seed: number, nowS: number, horizonS = 24 * 3600): Op[] {
  const rand = seededRandom(seed)
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!
  const ops: Op[] = []
  for (let i = 0; i < count; i++) {
    const row = pick(ROWS)
    const size = 1 + Math.floor(rand() * 3)
    const first = Math.floor(rand() * (row.length - size + 1))
    let bays = row.slice(first, first + size)
    if (rand() < 0.03) bays = [1, 3] // not adjacent: always refused
    const start = nowS + 60 + Math.floor(rand() * horizonS) // future only, any second
    const duration = 60 * (5 + Math.floor(rand() * 60))
    const id = 1 + Math.floor(rand() * 600)
    const kind = rand()
    const status = kind < 0.15 ? 'cancelled' : 'reserved'
    const session: Session = { machine_id: bays, status, start_time: start, duration }
    if (kind < 0.7) session.session_id = id // otherwise the hub assigns one
    ops.push({ session, origin: pick(ORIGINS) })
  }
  return ops
}

/** Opening hours and bay health for the sellable variant (issue 11); UTC so the oracle needs no zone rules. */
interface Sellable {
  open: number // seconds after UTC midnight
  close: number
  /** bay -> the problem's end (null: no known end) */
  broken: Map<number, number | null>
}

/** Inside one day's window, written apart from src/scheduling/hours.ts. */
function insideHours(start: number, end: number, h: Sellable): boolean {
  const midnight = Math.floor(start / 86_400) * 86_400
  return start >= midnight + h.open && start < midnight + h.close && end <= midnight + h.close
}

/**
 * The venue calendar of the calendar variant (issue 14), UTC, from Monday 2026-06-01: a closed
 * Sunday, a special day, a closed mowing window, walk-in evenings, a window across midnight, and
 * free / bookable windows that never refuse anything.
 */
const CALENDAR: Calendar = {
  hours: { mon: '07:00-24:00', tue: '00:00-22:00', wed: '07:00-22:00', thu: '07:00-22:00', fri: '07:00-22:00', sat: '08:00-20:00', sun: 'closed' },
  special_days: [{ date: '2026-06-03', hours: '10:00-16:00', reason: 'inspection' }],
  windows: [
    { bays: '1-12', days: ['tue'], from: '07:00', to: '09:00', kind: 'closed', reason: 'mowing' },
    { bays: '1-6', days: ['mon', 'tue'], from: '18:00', to: '21:00', kind: 'walk_in_only', reason: 'league' },
    { bays: '7-9', days: ['mon'], from: '23:00', to: '01:00', kind: 'closed', reason: 'floodlights' },
    { bays: '7-12', days: ['wed'], from: '11:00', to: '13:00', kind: 'walk_in_only', reason: 'school' },
    { bays: '1-12', days: ['tue'], from: '12:00', to: '14:00', kind: 'free', reason: 'members' },
    { bays: '10-12', days: ['wed', 'thu'], from: '10:00', to: '12:00', kind: 'bookable', reason: 'open' },
    { bays: '4', days: ['thu'], from: '09:00', to: '10:00', kind: 'closed', reason: 'net', starts: '2026-06-04', ends: '2026-06-04' },
  ],
}

/** The calendar's verdict, written apart from src/scheduling/calendar.ts: plain UTC arithmetic. */
const DAY = 86_400
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
const hm = (text: string) => Number(text.slice(0, 2)) * 3600 + Number(text.slice(3, 5)) * 60
const isoDay = (midnight: number) => new Date(midnight * 1000).toISOString().slice(0, 10)
function calendarRefusal(c: Calendar, bays: readonly number[], start: number, end: number, channel: 'kiosk' | 'reservation', hours: boolean): string | undefined {
  const first = Math.floor(start / DAY) * DAY - DAY
  if (hours) {
    // Open intervals of the days around, joined where one ends as the next begins.
    const open: Array<[number, number]> = []
    for (let d = first; d <= end + DAY; d += DAY) {
      const special = c.special_days.find((x) => x.date === isoDay(d))
      const h = special?.hours ?? c.hours[WEEKDAYS[new Date(d * 1000).getUTCDay()]!]
      if (h === 'closed') continue
      const [a, b] = h.split('-') as [string, string]
      const iv: [number, number] = [d + hm(a), d + (b === '24:00' ? DAY : hm(b))]
      const last = open[open.length - 1]
      if (last && last[1] === iv[0]) last[1] = iv[1]
      else open.push(iv)
    }
    if (!open.some(([a, b]) => a <= start && start < b && end <= b)) return 'SESSION_OUTSIDE_HOURS'
  }
  const kinds = new Set<string>()
  for (let d = first; d < end; d += DAY) {
    const weekday = WEEKDAYS[new Date(d * 1000).getUTCDay()]!
    for (const w of c.windows) {
      if (!w.days.includes(weekday) || (w.starts && isoDay(d) < w.starts) || (w.ends && isoDay(d) > w.ends)) continue
      const from = d + hm(w.from)
      const to = d + (w.to === '24:00' ? DAY : hm(w.to) <= hm(w.from) ? DAY + hm(w.to) : hm(w.to))
      if (!(from < end && to > start)) continue
      const [lo, hi] = w.bays.split('-').map(Number) as [number, number | undefined]
      if (bays.some((b) => b >= lo && b <= (hi ?? lo))) kinds.add(w.kind)
    }
  }
  if (kinds.has('closed')) return 'BAY_CLOSED'
  if (kinds.has('walk_in_only') && channel === 'reservation') return 'WALK_IN_ONLY'
  return undefined
}
const channelOf = (origin: string) => (origin === 'kiosk_interface' ? 'kiosk' : 'reservation') as 'kiosk' | 'reservation'

/** The oracle: brute force over every accepted session, written apart from src/scheduling. */
function oracleDecides(state: Map<number, SessionRecord>, op: Op, bufferS: number, newId: number, sellable?: Sellable, calendar?: Calendar) {
  const s = op.session
  const existing = s.session_id === undefined ? undefined : state.get(s.session_id)
  if (existing && existing.origin_node !== op.origin) return { ok: false, code: 'SESSION_FORBIDDEN' }
  // Ids are the hub's: naming an unknown one never creates.
  if (!existing && s.session_id !== undefined && s.status !== 'cancelled') return { ok: false, code: 'SESSION_NOT_FOUND' }
  if (s.status === 'cancelled') {
    if (!existing) return { ok: false, code: 'SESSION_NOT_FOUND' }
    return { ok: true, replay: existing.status === 'cancelled' }
  }
  if (existing?.status === 'cancelled') return { ok: false, code: 'SESSION_ENDED' }
  const bays = s.machine_id as number[]
  const positions = ROWS.map((row) => bays.map((b) => row.indexOf(b)).sort((x, y) => x - y))
  const adjacent = positions.some((p) => p[0]! >= 0 && p.every((x, k) => x === p[0]! + k))
  if (!adjacent) return { ok: false, code: 'BAYS_NOT_ADJACENT' }
  const start = s.start_time!
  const end = start + s.duration!
  const same = existing && existing.start_time === start && existing.end_time === end && existing.machine_id.length === bays.length && bays.every((b) => existing.machine_id.includes(b))
  if (same) return { ok: true, replay: true }
  if (sellable) {
    const kept = existing !== undefined && existing.start_time === start && end <= existing.end_time
    if (!kept && !insideHours(start, end, sellable)) return { ok: false, code: 'SESSION_OUTSIDE_HOURS' }
    for (const bay of bays) {
      if (kept && existing.machine_id.includes(bay)) continue
      if (!sellable.broken.has(bay)) continue
      const until = sellable.broken.get(bay)!
      if (until === null || until > start) return { ok: false, code: 'BAY_UNAVAILABLE' }
    }
  }
  if (calendar) {
    const kept = existing !== undefined && existing.start_time === start && end <= existing.end_time
    const added = kept ? bays.filter((b) => !existing.machine_id.includes(b)) : bays
    const code = added.length === 0 ? undefined : calendarRefusal(calendar, added, start, end, channelOf(op.origin), !kept)
    if (code) return { ok: false, code }
  }
  for (const other of state.values()) {
    if (other.status === 'cancelled' || other.session_id === s.session_id) continue
    if (!other.machine_id.some((b) => bays.includes(b))) continue
    const gapOk = end + bufferS <= other.start_time || other.end_time + bufferS <= start
    if (!gapOk) return { ok: false, code: 'SESSION_CONFLICT' }
  }
  return { ok: true, id: s.session_id ?? newId }
}

const variants = [
  { bufferMinutes: 0, sellable: false, calendar: false },
  { bufferMinutes: 5, sellable: false, calendar: false },
  { bufferMinutes: 5, sellable: true, calendar: false },
  { bufferMinutes: 5, sellable: false, calendar: true },
]

for (const { bufferMinutes, sellable: withSellable, calendar: withCalendar } of variants) {
  const label = withSellable
    ? ', opening hours 08:00-22:00, bay 3 offline, bay 9 in maintenance for 6 h'
    : withCalendar
      ? ', a venue calendar (hours per weekday, a special day, closed / walk-in / free windows, one across midnight) over 4 days'
      : ''
  t.test(`3,000 concurrent random operations, buffer ${bufferMinutes} min${label}`, async (t) => {
    const dir = t.testdir()
    const env: Record<string, string> = { HUB_MACHINES: '1-12', HUB_LAYOUT: '1-6;7-12', HUB_BUFFER_MINUTES: String(bufferMinutes) }
    const startS = Date.UTC(2026, 5, 1, 9, 0, 0) / 1000
    const sellable: Sellable | undefined = withSellable
      ? { open: 8 * 3600, close: 22 * 3600, broken: new Map([[3, null], [9, startS + 6 * 3600]]) }
      : undefined
    if (sellable) Object.assign(env, { HUB_OPENING_HOURS: '08:00-22:00', HUB_TIMEZONE: 'UTC' })
    if (withCalendar) env.HUB_TIMEZONE = 'UTC'
    const problems = new Map<number, BayProblem>([
      [3, { reason: 'offline', until: null, since: startS - 600 }],
      [9, { reason: 'maintenance', until: startS + 6 * 3600, holder: 'an admin override' }],
    ])
    const w = await buildWorld(t, { dir, env, ...(sellable && { bayHealth: (id: number) => problems.get(id) }) })
    const calendar = withCalendar ? CALENDAR : undefined
    if (calendar) {
      const set = await w.scheduling.setCalendar(calendar, { actor: { kind: 'system' } })
      t.ok(set.ok, 'calendar saved')
    }
    const seed = 20260601 + bufferMinutes + (withSellable ? 100 : 0) + (withCalendar ? 200 : 0)
    const ops = randomOps(3000, seed, w.clock.nowSeconds(), withCalendar ? 4 * 24 * 3600 : 24 * 3600)
    const order: number[] = []
    const results = await Promise.all(
      ops.map((op, i) =>
        w.scheduling.submit(op.session, { origin: op.origin }).then((r) => {
          order.push(i) // the single writer answers in the order it decided
          return r
        }),
      ),
    )
    const stats = w.scheduling.stats()
    t.ok(stats.batches < stats.steps / 4, `group commit: ${stats.steps} changes in ${stats.batches} synced batches`)

    // Replay the decisions in the writer's order against the brute-force oracle.
    const state = new Map<number, SessionRecord>()
    let mismatches = 0
    let accepted = 0
    for (const i of order) {
      const op = ops[i]!
      const actual = results[i]!
      const maxId = Math.max(0, ...state.keys())
      const expect = oracleDecides(state, op, bufferMinutes * 60, maxId + 1, sellable, calendar)
      const same = expect.ok ? actual.ok : !actual.ok && actual.code === expect.code
      if (!same && mismatches++ < 5) t.fail(`op ${i} (seed ${seed}): oracle ${JSON.stringify(expect)}, service ${JSON.stringify(actual)}`)
      if (actual.ok) {
        state.set(actual.value.session.session_id, actual.value.session)
        if (!actual.value.replay) accepted++
      }
    }
    t.equal(mismatches, 0, 'every decision matches the oracle')
    t.ok(accepted > (sellable || calendar ? 100 : 300), `${accepted} changes accepted`)

    // No two live sessions overlap on a bay (brute force over all pairs).
    const live = w.scheduling.list().filter((s) => s.status !== 'cancelled')
    let overlaps = 0
    for (let a = 0; a < live.length; a++) {
      for (let b = a + 1; b < live.length; b++) {
        const x = live[a]!
        const y = live[b]!
        if (!x.machine_id.some((bay) => y.machine_id.includes(bay))) continue
        if (x.start_time < y.end_time + bufferMinutes * 60 && y.start_time < x.end_time + bufferMinutes * 60) overlaps++
      }
    }
    t.equal(overlaps, 0, `no double booking among ${live.length} live sessions`)
    if (sellable) {
      // No accepted kiosk/reservation booking is on an unhealthy bay or outside opening hours.
      const unsellable = live.filter(
        (s) => !insideHours(s.start_time, s.end_time, sellable) || s.machine_id.some((b) => sellable.broken.has(b) && (sellable.broken.get(b) === null || sellable.broken.get(b)! > s.start_time)),
      )
      t.same(unsellable, [], `none of ${live.length} live sessions is on an unhealthy bay or outside hours`)
      const codes = new Set(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.code)))
      t.ok(codes.has('BAY_UNAVAILABLE') && codes.has('SESSION_OUTSIDE_HOURS'), 'both refusals were exercised')
    }

    if (calendar) {
      // No accepted booking violates a window (or the hours) for its origin.
      const violating = live.filter((s) => calendarRefusal(calendar, s.machine_id, s.start_time, s.end_time, channelOf(s.origin_node), true) !== undefined)
      t.same(violating, [], `none of ${live.length} live sessions breaks the calendar for its origin`)
      const codes = new Set(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.code)))
      t.ok(codes.has('BAY_CLOSED') && codes.has('WALK_IN_ONLY') && codes.has('SESSION_OUTSIDE_HOURS'), `every calendar refusal was exercised: ${[...codes].join(', ')}`)
      const kioskWalkIns = live.filter((s) => s.origin_node === 'kiosk_interface' && calendarRefusal(calendar, s.machine_id, s.start_time, s.end_time, 'reservation', true) === 'WALK_IN_ONLY')
      t.ok(kioskWalkIns.length > 0, `${kioskWalkIns.length} kiosk bookings in walk-in windows accepted`)
    }

    // Every accepted session is stored as last confirmed: the same after re-opening the DB.
    const confirmed = [...state.values()].sort((a, b) => a.session_id - b.session_id)
    t.same(w.scheduling.list().sort((a, b) => a.session_id - b.session_id), confirmed, 'memory matches the confirmations')
    await w.close()
    const reopened = await buildWorld(t, { dir, env, clock: w.clock })
    t.same(reopened.scheduling.list().sort((a, b) => a.session_id - b.session_id), confirmed, 'the database matches after re-opening')
    if (calendar) t.same(reopened.scheduling.calendar().calendar, calendar, 'the calendar survives re-opening')
  })
}
