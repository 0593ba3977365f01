/**
 * A scheduling module on a real LevelDB in a tap test dir, with a FakeClock and a recorded
 * event stream. Each test builds its own and t.teardown closes it.
 */
import { join } from 'node:path'
import { Level } from 'level'
import { pino } from 'pino'
import { loadConfig, type Config } from '../../src/config/index.js'
import { EventBus } from '../../src/lib/event-bus.js'
import type { HubEvents } from '../../src/protocol/events.js'
import { createScheduling, type BayHealthFn, type PricingFn, type StoredSession } from '../../src/scheduling/index.js'
import { FakeClock } from '../helpers/fake-clock.js'

export const silent = pino({ level: 'silent' })

/** 10 bays in two rows, London time, 5-minute slots (override with HUB_* values). */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ HUB_MACHINES: '1-10', HUB_LAYOUT: '1-5;6-10', HUB_TIMEZONE: 'Europe/London', ...env })
}

export interface Tap {
  testdir(): string
  teardown(fn: () => unknown): void
}

export function openDb(dir: string) {
  const db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  const store = db.sublevel<string, StoredSession>('sessions', { valueEncoding: 'json' })
  const archive = db.sublevel<string, unknown>('sessions-archive', { valueEncoding: 'json' })
  const calendarDb = db.sublevel<string, unknown>('calendar', { valueEncoding: 'json' })
  return { db, store, archive, calendarDb }
}

export async function buildWorld(t: Tap, options: { env?: Record<string, string>; clock?: FakeClock; dir?: string; bayHealth?: BayHealthFn; pricing?: PricingFn } = {}) {
  const dir = options.dir ?? t.testdir()
  const clock = options.clock ?? new FakeClock(Date.UTC(2026, 5, 1, 9, 0, 0))
  const config = testConfig(options.env)
  const events = new EventBus<HubEvents>(silent)
  const changes: Array<HubEvents['session.changed'] & { at: number }> = []
  events.on('session.changed', 'test', (e) => {
    changes.push({ ...e, at: clock.now() })
  })
  const { db, store, archive, calendarDb } = openDb(dir)
  const scheduling = createScheduling({ config, clock, events, store, archive, calendarDb, log: silent, ...(options.bayHealth && { bayHealth: options.bayHealth }), ...(options.pricing && { pricing: options.pricing }) })
  await scheduling.start()
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await scheduling.stop()
    await db.close()
  }
  t.teardown(close)
  return { dir, clock, config, events, changes, scheduling, close, db }
}

/** Let fake time pass in steps, waiting for the durable writes each step started. */
export async function runFor(w: { clock: FakeClock; scheduling: { idle(): Promise<void> } }, ms: number, stepMs = 1000): Promise<void> {
  const end = w.clock.now() + ms
  while (w.clock.now() < end) {
    await w.clock.advance(Math.min(stepMs, end - w.clock.now()))
    await w.scheduling.idle()
    await w.clock.advance(0)
  }
}

export const kiosk = { origin: 'kiosk_interface' }
export const admin = { origin: 'admin_portal', isAdmin: true }
