/**
 * Schedule reply cost (issue 10 defect 4): what one `schedule` Request / GET /api/schedule costs
 * the event loop, with the grid built per request (the reference: buildScheduleGrid over the
 * day's sessions, as before the cache) and from the per-date cache, for a 20-bay and a 1,000-bay
 * day with sessions booked through the module on a real LevelDB. JSON serialisation of the reply
 * (which both doors still pay) is measured apart.
 *
 *   npm run bench -- schedule [requests=200]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/index.js'
import { systemClock } from '../../src/lib/clock.js'
import { EventBus } from '../../src/lib/event-bus.js'
import type { HubEvents } from '../../src/protocol/events.js'
import { buildScheduleGrid } from '../../src/scheduling/grid.js'
import { settingCalendar } from '../../src/scheduling/hours.js'
import { createScheduling, dateAt, dayBounds, type StoredSession } from '../../src/scheduling/index.js'
import { percentile, printComparison } from './lib/stats.js'

const log = pino({ level: 'silent' })
const requests = Number(process.argv[2] ?? 200)

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
  const config = loadConfig({ HUB_MACHINES: `1-${bays}`, HUB_TIMEZONE: 'UTC', HUB_DATA_DIR: dir })
  const db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  const scheduling = createScheduling({ config, clock: systemClock, events: new EventBus<HubEvents>(log), log, store: db.sublevel<string, StoredSession>('sessions', { valueEncoding: 'json' }) })
  await scheduling.start()
  // A busy day: from the next hour, six one-hour sessions per bay (fewer if the day ends first).
  const now = Date.now() / 1000
  const date = dateAt('UTC', now)
  const { to } = dayBounds('UTC', date)
  const first = Math.ceil(now / 3600) * 3600
  const pending: Array<Promise<unknown>> = []
  for (let bay = 1; bay <= bays; bay++) {
    for (let k = 0; k < 6 && first + (k + 1) * 3600 <= to; k++) {
      pending.push(scheduling.submit({ machine_id: bay, status: 'reserved', start_time: first + k * 3600, duration: 3000 }, { origin: 'kiosk_interface' }))
    }
  }
  await Promise.all(pending)
  const sessions = scheduling.list(dayBounds('UTC', date))
  const uncached = () => buildScheduleGrid(date, config.slotMinutes, settingCalendar('UTC', config.openingHours), config.machineIds, scheduling.list(dayBounds('UTC', date)))
  const cached = () => scheduling.scheduleFor(date)
  const n = bays > 100 ? Math.max(5, Math.round(requests / 20)) : requests
  const before = timed(n, uncached)
  scheduling.scheduleFor(date) // the first request builds it
  const after = timed(requests, cached)
  const grid = cached()
  const bytes = grid.ok ? JSON.stringify(grid.value).length : 0
  const serialise = timed(n, () => JSON.stringify(grid.ok ? grid.value : null))
  await scheduling.stop()
  await db.close()
  rmSync(dir, { recursive: true, force: true })
  return { bays, sessions: sessions.length, before, after, serialise, bytes }
}

for (const bays of [20, 1000]) {
  const r = await day(bays)
  printComparison(`schedule reply, ${bays} bays, ${r.sessions} sessions today, reply ${Math.round(r.bytes / 1024)} KB JSON (ms per request)`, ['built each', 'cached'], [
    ['grid, mean ms', r.before.mean, r.after.mean],
    ['grid, p99 ms', r.before.p99, r.after.p99],
    ['grid + JSON serialisation, mean ms', r.before.mean + r.serialise.mean, r.after.mean + r.serialise.mean],
    ['event loop busy per 1,000 requests, s', r.before.mean + r.serialise.mean, r.after.mean + r.serialise.mean],
  ])
}
