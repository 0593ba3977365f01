/**
 * One HTTP world per test: config, FakeClock, event bus, scheduling + machines, and the app
 * from buildHttpApp, torn down with the test (RULES §6).
 */
import type { Test } from 'tap'
import { pino } from 'pino'
import { loadConfig, type Config } from '../../../src/config/index.js'
import { EventBus } from '../../../src/lib/event-bus.js'
import type { HubEvents } from '../../../src/protocol/events.js'
import { buildHttpApp, type HttpApp } from '../../../src/interfaces/http/app.js'
import type { Principal } from '../../../src/interfaces/http/deps.js'
import { FakeClock } from '../../helpers/fake-clock.js'
import { fakeMachines, type FakeMachines } from './fakes.js'
import { createScheduling, type StoredSession } from '../../../src/scheduling/index.js'
import type { Scheduling } from '../../../src/scheduling/types.js'
import { Level } from 'level'
import { join } from 'node:path'

export const ADMIN_TOKEN = 'admin-token-0123456789abcdef'
export const TOKENS: Record<string, Principal> = {
  'kiosk-token-1': { name: 'kiosk_interface', role: 'kiosk' },
  'kiosk-token-2': { name: 'kiosk_lobby', role: 'kiosk' },
  'reservation-token': { name: 'reservation_interface', role: 'reservation' },
}

export type As = 'admin' | 'kiosk' | 'kiosk2' | 'reservation' | 'none' | 'bad'
const tokenFor: Record<As, string | undefined> = {
  admin: ADMIN_TOKEN,
  kiosk: 'kiosk-token-1',
  kiosk2: 'kiosk-token-2',
  reservation: 'reservation-token',
  none: undefined,
  bad: 'not-a-token',
}

export function auth(as: As): Record<string, string> {
  const token = tokenFor[as]
  return token ? { authorization: `Bearer ${token}` } : {}
}

export interface World {
  app: HttpApp
  clock: FakeClock
  config: Config
  events: EventBus<HubEvents>
  scheduling: Scheduling & { idle(): Promise<void> }
  machines: FakeMachines
}

export async function buildWorld(t: Test, extra: { health?: () => object; metrics?: () => string } = {}): Promise<World> {
  const dir = t.testdir()
  const config = loadConfig({ HUB_MACHINES: '1-20', HUB_TIMEZONE: 'UTC', HUB_DATA_DIR: dir })
  const clock = new FakeClock(Date.UTC(2026, 0, 10, 10, 0, 0))
  const log = pino({ level: 'silent' })
  const events = new EventBus<HubEvents>(log)
  // DESIGN/RULES §8: one LevelDB, a sublevel per module.
  const db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  const scheduling = createScheduling({
    config, clock, events, log,
    store: db.sublevel<string, StoredSession>('sessions', { valueEncoding: 'json' }),
  })
  await scheduling.start()
  t.teardown(async () => {
    await scheduling.stop()
    await db.close()
  })
  const machines = fakeMachines(config, clock, events)
  const app = await buildHttpApp({
    config, log, clock, events, machines, scheduling, adminToken: ADMIN_TOKEN,
    verifyToken: (token) => TOKENS[token], version: '9.9.9', ...extra,
  })
  t.teardown(() => app.close())
  return { app, clock, config, events, scheduling, machines }
}

/** Let fake time pass in steps, waiting for the durable writes each step started. */
export async function runFor(w: World, ms: number, stepMs = 1000): Promise<void> {
  const end = w.clock.now() + ms
  while (w.clock.now() < end) {
    await w.clock.advance(Math.min(stepMs, end - w.clock.now()))
    await w.scheduling.idle()
    await w.clock.advance(0)
  }
}

/** epoch seconds of the world's clock plus `minutes` */
export function inMinutes(world: World, minutes: number): number {
  return world.clock.now() / 1000 + minutes * 60
}
