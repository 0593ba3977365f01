/**
 * Scheduling benchmarks (issue: conflict-free bay sessions).
 *
 *   node --import tsx scripts/bench/changeover.ts bookings [count]
 *
 * bookings: durable bookings per second through the scheduling module on a real LevelDB
 * (sync writes), from 1 client and from 8 concurrent clients, each client awaiting its
 * confirmation before the next booking; with group commit on (default) and off (maxBatch 1).
 * Prints one JSON line per run with bookings/s and confirmation latency p50/p99/max (ms).
 *
 *   node --import tsx scripts/bench/changeover.ts activation [bays]
 *
 * activation: `bays` sessions (default 1,000, one per bay) all starting in the same second;
 * lateness from start_time to the durable 'activated' event, p50/p99/max (ms). This is the
 * scheduling side of a changeover; the machines' command round trip comes on top.
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
import { createScheduling, type StoredSession } from '../../src/scheduling/index.js'

const log = pino({ level: 'silent' })

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function bookings(total: number, clients: number, maxBatch: number) {
  const { scheduling, close } = openModule(1000, maxBatch)
  await scheduling.start()
  const base = Math.ceil(Date.now() / 1000) + 3600
  const latencies: number[] = []
  let next = 0
  const client = async () => {
    for (;;) {
      const i = next++
      if (i >= total) return
      // Every booking fits: 1,000 bays x consecutive 5-minute sessions.
      const session = { machine_id: 1 + (i % 1000), status: 'reserved' as const, start_time: base + Math.floor(i / 1000) * 300, duration: 300 }
      const t0 = performance.now()
      const r = await scheduling.submit(session, { origin: 'kiosk_interface' })
      latencies.push(performance.now() - t0)
      if (!r.ok) throw new Error(`booking ${i} refused: ${r.message}`)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: clients }, client))
  const seconds = (performance.now() - started) / 1000
  const stats = scheduling.stats()
  await close()
  latencies.sort((a, b) => a - b)
  return {
    bench: 'bookings',
    clients,
    groupCommit: maxBatch > 1,
    bookings: total,
    perSecond: Math.round(total / seconds),
    p50Ms: +percentile(latencies, 50).toFixed(2),
    p99Ms: +percentile(latencies, 99).toFixed(2),
    maxMs: +latencies.at(-1)!.toFixed(2),
    syncedBatches: stats.batches,
  }
}

function openModule(bays: number, maxBatch?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scheduling-'))
  const db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  const config = loadConfig({ HUB_MACHINES: `1-${bays}`, HUB_TIMEZONE: 'UTC', HUB_LOG_LEVEL: 'silent' })
  const events = new EventBus<HubEvents>(log)
  const store = db.sublevel<string, StoredSession>('sessions', { valueEncoding: 'json' })
  const scheduling = createScheduling({ config, clock: systemClock, events, store, log, ...(maxBatch ? { maxBatch } : {}) })
  const close = async () => {
    await scheduling.stop()
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return { scheduling, events, close }
}

async function activation(bays: number) {
  const { scheduling, events, close } = openModule(bays)
  await scheduling.start()
  const start = Math.ceil(Date.now() / 1000) + 3
  const lateness: number[] = []
  const done = new Promise<void>((resolve) => {
    events.on('session.changed', 'bench', (e) => {
      if (e.change !== 'activated') return
      lateness.push(Date.now() - e.session.start_time * 1000)
      if (lateness.length === bays) resolve()
    })
  })
  for (let id = 1; id <= bays; id++) {
    const r = await scheduling.submit({ machine_id: id, status: 'reserved', start_time: start, duration: 600 }, { origin: 'kiosk_interface' })
    if (!r.ok) throw new Error(r.message)
  }
  await done
  const stats = scheduling.stats()
  await close()
  lateness.sort((a, b) => a - b)
  return { bench: 'activation', sessions: bays, p50Ms: percentile(lateness, 50), p99Ms: percentile(lateness, 99), maxMs: lateness.at(-1), syncedBatches: stats.batches }
}

async function main() {
  const [mode = 'bookings', countArg] = process.argv.slice(2)
  if (mode === 'bookings') {
    const count = Number(countArg ?? 2000)
    for (const maxBatch of [256, 1]) {
      for (const clients of [1, 8]) console.log(JSON.stringify(await bookings(count, clients, maxBatch)))
    }
    return
  }
  if (mode === 'activation') {
    console.log(JSON.stringify(await activation(Number(countArg ?? 1000))))
    return
  }
  throw new Error(`unknown mode ${mode} (bookings | activation)`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
