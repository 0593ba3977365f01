/**
 * Schedule reply size and cost (issue 17; issue 10 defect 4 before it). One busy day, booked
 * through the module on a real LevelDB: opening hours 08:00-22:00, about six sessions per bay
 * with gaps, one in ten a group of 2-4 bays, a closed window (mowing, bays 1-40 08:00-09:00), a
 * walk-in window (bays 1-10 18:00-21:00) and two bays out of order (unsellable all day).
 *
 * Per format (`slots`: the seed's rows, DESIGN §4; `runs`: the compact default of GET
 * /api/schedule) it prints the reply's bytes (and gzip for reference: the hub does not compress),
 * the time to build a reply after a change (grid + overlay + encoding + JSON.stringify) and the
 * time to serve one from the cache. The reference in the same run is what each request cost
 * before this change: the cached grid serialised per request (both doors did JSON.stringify).
 * Session ids here are small (a fresh database); the "6-digit ids" line re-encodes the same day
 * with ids + 100,000, as on a hub after a year of bookings.
 *
 *   npm run bench -- schedule [requests=200]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Level } from 'level'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/index.js'
import { systemClock } from '../../src/lib/clock.js'
import { EventBus } from '../../src/lib/event-bus.js'
import type { HubEvents } from '../../src/protocol/events.js'
import type { BayProblem, Schedule, ScheduleCell } from '../../src/protocol/messages.js'
import { buildScheduleGrid, overlayUnsellable, slotStarts } from '../../src/scheduling/grid.js'
import { toRuns } from '../../src/scheduling/grid-runs.js'
import { describeProblem } from '../../src/scheduling/sellable.js'
import { compileCalendar, createScheduling, dateAt, dayBounds, type StoredSession } from '../../src/scheduling/index.js'
import { percentile, printComparison } from './lib/stats.js'
import { seededRandom } from '../../test/helpers/seeded-random.js'

const log = pino({ level: 'silent' })
const requests = Number(process.argv[2] ?? 200)
const TZ = 'UTC'

function timed(n: number, fn: () => unknown) {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    fn()
    times.push(performance.now() - t0)
  }
  const sorted = times.sort((a, b) => a - b)
  return { mean: times.reduce((a, b) => a + b, 0) / n, p99: percentile(sorted, 99) }
}

async function day(bays: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-schedule-'))
  const config = loadConfig({ HUB_MACHINES: `1-${bays}`, HUB_TIMEZONE: TZ, HUB_DATA_DIR: dir, HUB_OPENING_HOURS: '08:00-22:00' })
  const db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  const out = new Map<number, BayProblem>([[7, { reason: 'maintenance', until: null }], [bays - 3, { reason: 'error', until: null, detail: 'jammed' }]])
  const scheduling = createScheduling({
    config,
    clock: systemClock,
    events: new EventBus<HubEvents>(log),
    log,
    store: db.sublevel<string, StoredSession>('sessions', { valueEncoding: 'json' }),
    bayHealth: (id) => out.get(id),
  })
  await scheduling.start()
  const every = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
  const set = await scheduling.setCalendar(
    {
      hours: Object.fromEntries(every.map((d) => [d, '08:00-22:00'])) as Record<(typeof every)[number], string>,
      special_days: [],
      windows: [
        { bays: `1-${Math.min(40, bays)}`, days: [...every], from: '08:00', to: '09:00', kind: 'closed', reason: 'mowing' },
        { bays: `1-${Math.min(10, bays)}`, days: [...every], from: '18:00', to: '21:00', kind: 'walk_in_only', reason: 'junior league' },
      ],
    },
    { actor: { kind: 'token', name: 'admin_portal' }, confirm: true },
  )
  if (!set.ok) throw new Error(set.message)
  // Tomorrow: every slot in the future, so bookings are accepted and the overlay covers the day.
  const date = dateAt(TZ, Date.now() / 1000 + 86400)
  const { from } = dayBounds(TZ, date)
  const open = from + 8 * 3600
  const close = from + 22 * 3600
  const rand = seededRandom(bays)
  const pending: Array<Promise<unknown>> = []
  for (let bay = 1; bay <= bays; bay++) {
    // Staff book inside the walk-in window too; the group bookings land where bays are free.
    let t = open + 3600 + Math.floor(rand() * 4) * 900
    for (let k = 0; k < 6 && t < close - 1800; k++) {
      const minutes = [45, 60, 60, 90][Math.floor(rand() * 4)]!
      const group = rand() < 0.1 && bay + 3 <= bays ? 2 + Math.floor(rand() * 3) : 1
      const machine_id = Array.from({ length: group }, (_, i) => bay + i)
      pending.push(scheduling.submit({ machine_id, status: 'reserved', start_time: t, duration: Math.min(minutes * 60, close - t) }, { origin: 'admin_portal', isAdmin: true, channel: 'staff' }))
      t += minutes * 60 + Math.floor(rand() * 5) * 900
    }
  }
  await Promise.all(pending)
  const sessions = scheduling.list(dayBounds(TZ, date))
  const calendar = compileCalendar(scheduling.calendar().calendar, TZ)
  const unsellable = { nowS: Date.now() / 1000, bays: new Map([...out].map(([id, p]) => [id, { until: p.until, reason: describeProblem(id, p, TZ) }])) }
  const starts = slotStarts(date, config.slotMinutes, calendar)
  /** What the cache does after a change: the grid of the date, the overlay, the encoding, JSON. */
  const build = (format: 'slots' | 'runs') => () => {
    const grid = overlayUnsellable(buildScheduleGrid(date, config.slotMinutes, calendar, config.machineIds, scheduling.list(dayBounds(TZ, date))), starts, 300, unsellable)
    return Buffer.from(JSON.stringify(format === 'runs' ? toRuns(grid, TZ) : grid))
  }
  const serve = (format: 'slots' | 'runs') => () => {
    const r = scheduling.scheduleReply(date, format)
    if (!r.ok) throw new Error(r.message)
    return r.value.bytes
  }
  const n = bays > 100 ? Math.max(5, Math.round(requests / 20)) : requests
  const slotsBytes = serve('slots')()
  const runsBytes = serve('runs')()
  // The same cells as built, so the sizes compare like for like.
  if (slotsBytes.length !== build('slots')().length) throw new Error('the cached slot reply is not the one built')
  const grid = JSON.parse(slotsBytes.toString()) as Schedule
  const bigIds: Schedule = { ...grid, schedule: grid.schedule.map((row) => row.map((c) => (typeof c === 'object' && (c as ScheduleCell).session_id ? { ...(c as ScheduleCell), session_id: (c as ScheduleCell).session_id! + 100_000 } : c))) }
  const runsBig = Buffer.from(JSON.stringify(toRuns(bigIds, TZ)))
  // Before (the seed): the cached grid object, serialised on every request.
  const before = timed(n, () => {
    const r = scheduling.scheduleFor(date)
    return r.ok ? Buffer.from(JSON.stringify(r.value)) : null
  })
  const result = {
    bays,
    sessions: sessions.length,
    bytes: { slots: slotsBytes.length, runs: runsBytes.length, runsBig: runsBig.length, gzipSlots: gzipSync(slotsBytes).length, gzipRuns: gzipSync(runsBytes).length },
    build: { slots: timed(n, build('slots')), runs: timed(n, build('runs')) },
    before,
    cached: { slots: timed(requests, serve('slots')), runs: timed(requests, serve('runs')) },
    stats: scheduling.gridStats(),
  }
  await scheduling.stop()
  await db.close()
  rmSync(dir, { recursive: true, force: true })
  return result
}

for (const bays of [80, 1000]) {
  const r = await day(bays)
  const kb = (b: number) => Math.round((b / 1024) * 10) / 10
  printComparison(`schedule reply, ${bays} bays, ${r.sessions} sessions tomorrow (08:00-22:00, mowing and walk-in windows, 2 bays out of order)`, ['slots (seed)', 'runs'], [
    ['reply, KB', kb(r.bytes.slots), kb(r.bytes.runs)],
    ['reply with 6-digit session ids, KB', kb(r.bytes.slots), kb(r.bytes.runsBig)],
    ['gzip (reference; the hub sends identity), KB', kb(r.bytes.gzipSlots), kb(r.bytes.gzipRuns)],
    ['build after a change (grid+JSON), mean ms', r.build.slots.mean, r.build.runs.mean],
    ['build after a change, p99 ms', r.build.slots.p99, r.build.runs.p99],
    ['served from the cache, mean ms', r.cached.slots.mean, r.cached.runs.mean],
  ])
  printComparison(`per request, ${bays} bays: before (cached grid, JSON.stringify each request) vs now (cached bytes)`, ['before', 'now'], [
    ['slots, mean ms', r.before.mean, r.cached.slots.mean],
    ['slots, p99 ms', r.before.p99, r.cached.slots.p99],
    ['HTTP default (slots before, runs now), mean ms', r.before.mean, r.cached.runs.mean],
    ['HTTP default, bytes', r.bytes.slots, r.bytes.runs],
  ])
  console.log(`grid cache: ${r.stats.builds} grids built, ${r.stats.replyBuilds} replies serialised, ${r.stats.replyHits} served from the cache`)
}
