/**
 * Issue 17: the compact schedule reply. Property: for random days — random sessions (groups of
 * bays, every status, overlapping), random calendars (hours, closed and walk-in windows, days
 * closed all day), Europe/London's 23- and 25-hour days, several slot sizes, unsellable bays laid
 * over from a random "now" — expanding the runs gives exactly the slot rows, byte for byte.
 * Then the module: both formats served from one cache, rebuilt when a session, the calendar or
 * a bay's health changes, and not otherwise.
 */
import t from 'tap'
import { Compile } from 'typebox/compile'
import type { Calendar, BayWindow } from '../../src/protocol/calendar.js'
import { RUN_STATUSES, ScheduleRuns, type BayProblem, type Schedule, type SessionRecord } from '../../src/protocol/messages.js'
import { compileCalendar } from '../../src/scheduling/calendar.js'
import { buildScheduleGrid, overlayUnsellable, slotStarts } from '../../src/scheduling/grid.js'
import { expandRuns, toRuns } from '../../src/scheduling/grid-runs.js'
import { dayBounds, instantOf } from '../../src/scheduling/tz.js'
import { admin, buildWorld } from './world.js'
import { seededRandom } from '../helpers/seeded-random.js'

const LONDON = 'Europe/London'
const checkRuns = Compile(ScheduleRuns)

const DATES = ['2026-03-29', '2026-10-25', '2026-03-28', '2026-10-26', '2026-06-16', '2026-12-24']
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
const STATUSES: SessionRecord['status'][] = ['reserved', 'active', 'maintenance', 'held', 'completed', 'cancelled']
const hm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`

function randomCalendar(rand: () => number, date: string, bays: number): Calendar {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!
  const open = Math.floor(rand() * 10) * 60
  const hours = rand() < 0.3 ? '00:00-24:00' : `${hm(open)}-${rand() < 0.3 ? '24:00' : hm(Math.min(23 * 60 + 30, open + 6 * 60 + Math.floor(rand() * 8) * 60))}`
  const week = Object.fromEntries(DAYS.map((d) => [d, hours])) as Calendar['hours']
  const windows: BayWindow[] = []
  for (let i = Math.floor(rand() * 5); i > 0; i--) {
    const lo = 1 + Math.floor(rand() * bays)
    const hi = Math.min(bays, lo + Math.floor(rand() * 4))
    const from = Math.floor(rand() * 48) * 30
    windows.push({
      bays: lo === hi ? String(lo) : `${lo}-${hi}`,
      days: [...DAYS],
      from: hm(from),
      to: hm((from + 30 + Math.floor(rand() * 12) * 30) % (24 * 60)),
      kind: pick(['closed', 'walk_in_only', 'bookable', 'free'] as const),
      reason: pick(['mowing', 'junior league', 'lessons', 'repairs']),
    })
  }
  const special_days = rand() < 0.15 ? [{ date, hours: 'closed', reason: 'storm' }] : []
  return { hours: week, special_days, windows }
}

function randomSessions(rand: () => number, from: number, to: number, bays: number): SessionRecord[] {
  const out: SessionRecord[] = []
  const count = Math.floor(rand() * 3 * bays)
  for (let i = 0; i < count; i++) {
    const size = 1 + Math.floor(rand() * 3)
    const first = 1 + Math.floor(rand() * Math.max(1, bays - size + 1))
    const machine_id = Array.from({ length: Math.min(size, bays - first + 1) }, (_, k) => first + k)
    // Any second, also across the day's edges, so partial slots and clipped sessions occur.
    const start = from - 3600 + Math.floor(rand() * (to - from + 3600))
    const duration = 60 * (1 + Math.floor(rand() * 180))
    const status = STATUSES[Math.floor(rand() * STATUSES.length)]!
    out.push({ session_id: 1 + Math.floor(rand() * 2_000_000), machine_id, status, start_time: start, end_time: start + duration, duration, origin_node: 'kiosk_interface', created_at: 0, updated_at: 0 })
  }
  return out
}

const PROBLEMS: BayProblem[] = [
  { reason: 'maintenance', until: null },
  { reason: 'error', until: null, detail: 'jammed' },
  { reason: 'offline', until: null, since: 1_780_000_000 },
  { reason: 'held', until: null, holder: 'an admin override' },
]

function randomDay(seed: number): { grid: Schedule; timeZone: string } {
  const rand = seededRandom(seed)
  const date = DATES[Math.floor(rand() * DATES.length)]!
  const bays = 1 + Math.floor(rand() * 12)
  const slotMinutes = [5, 5, 10, 15, 30][Math.floor(rand() * 5)]!
  const calendar = compileCalendar(randomCalendar(rand, date, bays), LONDON)
  const { from, to } = dayBounds(LONDON, date)
  const machines = Array.from({ length: bays }, (_, i) => i + 1)
  let grid = buildScheduleGrid(date, slotMinutes, calendar, machines, randomSessions(rand, from, to, bays))
  if (rand() < 0.5) {
    // Unsellable bays from a random now, some with an end: the overlay the hub lays over the grid.
    const unsellable = new Map<number, { until: number | null; reason: string }>()
    for (const bay of machines) {
      if (rand() < 0.3) unsellable.set(bay, { until: rand() < 0.5 ? null : from + Math.floor(rand() * (to - from)), reason: `bay ${bay}: ${PROBLEMS[Math.floor(rand() * PROBLEMS.length)]!.reason}` })
    }
    grid = overlayUnsellable(grid, slotStarts(date, slotMinutes, calendar), slotMinutes * 60, { nowS: from + Math.floor(rand() * (to - from)), bays: unsellable })
  }
  return { grid, timeZone: LONDON }
}

t.test('property: expanding the runs gives exactly the slot rows', async (t) => {
  let cells = 0
  let runCount = 0
  const seen = new Set<string>()
  for (let seed = 1; seed <= 400; seed++) {
    const { grid, timeZone } = randomDay(seed)
    const runs = toRuns(grid, timeZone)
    // What a reader receives is JSON: expand what came over the wire.
    const wire = JSON.parse(JSON.stringify(runs)) as ScheduleRuns
    if (!checkRuns.Check(wire)) {
      t.fail(`seed ${seed}: the runs do not match ScheduleRuns`, { errors: [...checkRuns.Errors(wire)].slice(0, 3) })
      continue
    }
    const expanded = JSON.stringify(expandRuns(wire))
    if (expanded !== JSON.stringify(grid)) {
      t.fail(`seed ${seed}: expanded runs differ from the slot rows (${grid.date}, ${grid.slot_minutes} min, ${grid.machines.length} bays)`)
      continue
    }
    // Runs are maximal, in order, inside the day, and never list free time.
    for (const list of wire.runs) {
      let end = 0
      let last: (typeof list)[number] | undefined
      for (const run of list) {
        const [first, count, status, ref] = run
        if (first < end || first + count > wire.slots) t.fail(`seed ${seed}: run ${JSON.stringify(run)} overlaps or leaves the day`)
        if (wire.statuses[status] === 'available') t.fail(`seed ${seed}: a run of free slots`)
        if (last && first === end && last[2] === status && last[3] === ref) t.fail(`seed ${seed}: two runs of one cell side by side`)
        end = first + count
        last = run
      }
      runCount += list.length
    }
    cells += grid.schedule.length * grid.machines.length
    for (const row of grid.schedule) for (const cell of row.slice(1)) seen.add((cell as { status: string }).status)
    seen.add(`${grid.date}:${grid.schedule.length}`)
  }
  t.ok(runCount < cells / 4, `${runCount} runs for ${cells} cells`)
  for (const status of RUN_STATUSES) t.ok(seen.has(status), `the random days include ${status} cells`)
  t.ok(seen.has(`2026-03-29:${23 * 12}`) && seen.has(`2026-10-25:${25 * 12}`), 'and whole 23- and 25-hour days at 5 minutes')
})

t.test('the 25-hour day: both 01:30s come back in order with their own cells', async (t) => {
  const calendar = compileCalendar({ hours: Object.fromEntries(DAYS.map((d) => [d, '00:00-24:00'])) as Calendar['hours'], special_days: [], windows: [] }, LONDON)
  const at = (iso: string) => Date.parse(iso) / 1000
  const sessions: SessionRecord[] = [
    { session_id: 1, machine_id: [1, 2], status: 'reserved', start_time: at('2026-10-25T00:30:00Z'), end_time: at('2026-10-25T01:00:00Z'), duration: 1800, origin_node: 'k', created_at: 0, updated_at: 0 },
    { session_id: 2, machine_id: [2], status: 'maintenance', start_time: at('2026-10-25T01:30:00Z'), end_time: at('2026-10-25T02:00:00Z'), duration: 1800, origin_node: 'k', created_at: 0, updated_at: 0 },
  ]
  const grid = buildScheduleGrid('2026-10-25', 5, calendar, [1, 2], sessions)
  const runs = toRuns(grid, LONDON)
  t.equal(runs.slots, 300)
  t.same(runs.runs, [
    [[18, 6, RUN_STATUSES.indexOf('reserved'), 1]],
    [[18, 6, RUN_STATUSES.indexOf('reserved'), 1], [30, 6, RUN_STATUSES.indexOf('maintenance'), 2]],
  ], 'a group session is a run on each of its bays; slot 18 is the first 01:30, slot 30 the second')
  const rows = expandRuns(runs).schedule
  t.same([rows[18]![0], rows[30]![0]], ['01:30', '01:30'])
  t.same(JSON.stringify(expandRuns(runs)), JSON.stringify(grid))
})

t.test('reasons are sent once, however many cells carry them', async (t) => {
  const calendar = compileCalendar(
    {
      hours: Object.fromEntries(DAYS.map((d) => [d, '08:00-22:00'])) as Calendar['hours'],
      special_days: [],
      windows: [
        { bays: '1-40', days: [...DAYS], from: '08:00', to: '10:00', kind: 'closed', reason: 'mowing' },
        { bays: '1-10', days: [...DAYS], from: '18:00', to: '21:00', kind: 'walk_in_only', reason: 'junior league' },
      ],
    },
    LONDON,
  )
  const machines = Array.from({ length: 40 }, (_, i) => i + 1)
  const runs = toRuns(buildScheduleGrid('2026-06-16', 5, calendar, machines, []), LONDON)
  t.same(runs.reasons, ['closed: mowing', 'walk-in only: junior league'])
  t.same(runs.runs[0], [[0, 24, RUN_STATUSES.indexOf('closed'), 0], [120, 36, RUN_STATUSES.indexOf('walk_in_only'), 1]])
  t.same(runs.runs[39], [[0, 24, RUN_STATUSES.indexOf('closed'), 0]])
  t.equal(JSON.stringify(runs).match(/mowing/g)?.length, 1)
})

t.test('scheduleReply: both formats from one cache, rebuilt on change only', async (t) => {
  const problems = new Map<number, BayProblem>()
  const w = await buildWorld(t, { env: { HUB_MACHINES: '1-8', HUB_LAYOUT: '1-8', HUB_TIMEZONE: LONDON }, bayHealth: (id) => problems.get(id) })
  const date = '2026-06-01'
  const at = (h: number, m = 0) => instantOf(LONDON, { year: 2026, month: 6, day: 1, hour: h, minute: m })
  const both = () => {
    const runs = w.scheduling.scheduleReply(date, 'runs')
    const slots = w.scheduling.scheduleReply(date, 'slots')
    if (!runs.ok || !slots.ok) throw new Error('refused')
    return { runs: runs.value, slots: slots.value }
  }
  const agree = (label: string) => {
    const { runs, slots } = both()
    t.equal(JSON.stringify(expandRuns(JSON.parse(runs.bytes.toString()) as ScheduleRuns)), slots.bytes.toString(), `${label}: runs expand to the slot rows`)
    t.same(JSON.parse(slots.bytes.toString()), w.scheduling.scheduleFor(date).ok && (w.scheduling.scheduleFor(date) as { value: Schedule }).value, `${label}: the slot bytes are scheduleFor's grid`)
    return { runs, slots }
  }
  const first = agree('empty day')
  t.same(JSON.parse(first.runs.bytes.toString()).runs, Array.from({ length: 8 }, () => []), 'a free day has no runs')
  const again = both()
  t.equal(again.runs, first.runs, 'a second request is the same cached reply')
  t.equal(again.runs.bytes, first.runs.bytes, 'serialised once')
  const built = w.scheduling.gridStats()

  t.ok((await w.scheduling.submit({ machine_id: [2, 3], status: 'reserved', start_time: at(14), duration: 3600 }, admin)).ok)
  const booked = agree('after a booking')
  t.not(booked.runs.etag, first.runs.etag, 'a booking on the date changes the reply')
  t.ok(w.scheduling.gridStats().builds > built.builds, 'the grid was built again')

  t.ok((await w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: at(14) + 3 * 86400, duration: 3600 }, admin)).ok)
  t.equal(both().runs, booked.runs, 'a booking on another date leaves it cached')

  problems.set(5, { reason: 'maintenance', until: at(12) })
  const unsellable = agree('bay 5 in maintenance')
  t.not(unsellable.runs.etag, booked.runs.etag, 'a bay that cannot be sold changes the reply')
  const reply = JSON.parse(unsellable.runs.bytes.toString()) as ScheduleRuns
  t.same(reply.runs[4], [[Math.floor((w.clock.now() / 1000 - reply.first_slot!) / 300), (at(12) - Math.floor(w.clock.now() / 1000 / 300) * 300) / 300, RUN_STATUSES.indexOf('unavailable'), 0]], 'bay 5 unavailable from the current slot to its end')
  t.match(reply.reasons[0], /^bay 5 is in maintenance until 12:00/)
  t.equal(both().runs, unsellable.runs, 'still cached while nothing changes')
  await w.clock.advance(5 * 60 * 1000)
  const later = agree('one slot later')
  t.not(later.runs.etag, unsellable.runs.etag, 'the overlay moves with the current slot')
  problems.clear()
  t.equal(both().runs.etag, booked.runs.etag, 'healthy again: the same reply as before')

  const set = await w.scheduling.setCalendar({ hours: Object.fromEntries(DAYS.map((d) => [d, '08:00-20:00'])) as Calendar['hours'], special_days: [], windows: [] }, { actor: { kind: 'token', name: 'admin_portal' }, confirm: true })
  t.ok(set.ok, 'the calendar is saved')
  const hours = agree('after a calendar change')
  t.equal(JSON.parse(hours.runs.bytes.toString()).slots, 12 * 12, 'the new hours')
  t.equal(JSON.parse(hours.runs.bytes.toString()).first_slot, at(8))
})
