/**
 * One machines module on a FakeBroker, a FakeClock and a real LevelDB in the test's own
 * directory. `restart()` closes everything and builds the module again on the same data.
 */
import type { Test } from 'tap'
import { Level } from 'level'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/index.js'
import { EventBus } from '../../src/lib/event-bus.js'
import { createMachines, type MachineDb } from '../../src/machines/index.js'
import type { Machines } from '../../src/machines/types.js'
import type { HubEvents } from '../../src/protocol/events.js'
import type { DesiredState } from '../../src/protocol/messages.js'
import type { ClientIdentity } from '../../src/protocol/identity.js'
import { Topics } from '../../src/protocol/topics.js'
import { FakeBroker } from '../helpers/fake-broker.js'
import { FakeClock } from '../helpers/fake-clock.js'

export interface World {
  machines: Machines
  broker: FakeBroker
  clock: FakeClock
  events: EventBus<HubEvents>
  /** every event emitted, in order */
  seen: Array<{ name: keyof HubEvents; payload: unknown }>
  /** what the fake schedule requires per machine */
  schedule: Map<number, DesiredState>
  /** synced batches written to the machines sublevel */
  writes: { count: number }
  restart(): Promise<World>
  /** make `client` (a machine) confirm every command it is sent, as a healthy dispenser does */
  autoConfirm(client: ClientIdentity): void
  /** wait for durable writes (real I/O) and what follows them, then for due timers */
  idle(ms?: number): Promise<void>
}

export const log = pino({ level: 'silent' })

export async function buildWorld(t: Test, dir = t.testdir(), clock = new FakeClock(), schedule = new Map<number, DesiredState>()): Promise<World> {
  const config = loadConfig({ HUB_MACHINES: '1-5', HUB_TIMEZONE: 'UTC' })
  const db = new Level<string, unknown>(dir, { valueEncoding: 'json' })
  // the same handle the hub passes: a json sublevel, seen through the MachineDb port
  const sub: MachineDb = db.sublevel<string, unknown>('machines', { valueEncoding: 'json' })
  const writes = { count: 0 }
  const pending = new Set<Promise<void>>()
  const store: MachineDb = {
    batch: (ops: Array<{ type: 'put'; key: string; value: unknown }>, options: { sync: boolean }) => {
      writes.count++
      if (!options.sync) throw new Error('machine writes must be synced')
      const p = sub.batch(ops, options)
      pending.add(p)
      void p.finally(() => pending.delete(p))
      return p
    },
    iterator: () => sub.iterator(),
  }
  const events = new EventBus<HubEvents>(log)
  const seen: World['seen'] = []
  for (const name of ['machine.changed', 'alert.raised', 'alert.cleared', 'command.sent', 'command.confirmed', 'command.failed', 'input.rejected'] as const) {
    events.on(name, 'test', (payload) => void seen.push({ name, payload }))
  }
  const broker = new FakeBroker()
  const machines = createMachines({
    config, clock, events, broker, store, log,
    desiredStateFor: (id) => schedule.get(id),
  })
  await machines.start()
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await machines.stop()
    await db.close()
  }
  t.teardown(close)
  return {
    machines, broker, clock, events, seen, schedule, writes,
    autoConfirm(client) {
      if (client.kind !== 'machine') throw new Error('autoConfirm needs a machine client')
      events.on('command.sent', `auto-confirm-${client.machineId}`, ({ command }) => {
        if (command.machine_id !== client.machineId) return
        queueMicrotask(() => broker.inject(Topics.machineHandler, { success: true, exchange_id: command.exchange_id }, client))
      })
    },
    async idle(ms = 0) {
      const drain = async () => {
        for (let i = 0; i < 5; i++) {
          await clock.advance(0)
          while (pending.size > 0) await Promise.allSettled([...pending])
        }
      }
      await drain()
      await clock.advance(ms)
      await drain()
    },
    async restart() {
      await close()
      return buildWorld(t, dir, clock, schedule)
    },
  }
}

export function named<K extends keyof HubEvents>(w: World, name: K): Array<HubEvents[K]> {
  return w.seen.filter((e) => e.name === name).map((e) => e.payload as HubEvents[K])
}

/** A dispenser report as DESIGN §4 shows it. */
export function report(id: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { machine_id: id, status: 'idle', ball_level: 'full', scheduled_until: null, firmware: '1.0.0', ip_address: `192.168.4.${20 + id}`, rssi: -61, uptime_s: 3600, origin_node: `machine_${String(id).padStart(3, '0')}`, ...extra }
}
