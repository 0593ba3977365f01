/**
 * issue 17: a session's start and end drive its bays before the lifecycle step's durable write,
 * so a control does not wait for the fsync; the events still come only after the write.
 */
import t from 'tap'
import { createScheduling, type SessionDb } from '../../src/scheduling/index.js'
import { EventBus } from '../../src/lib/event-bus.js'
import type { HubEvents } from '../../src/protocol/events.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { openDb, runFor, silent, testConfig } from './world.js'
import { DELIVERIES_WAIT_MS } from '../../src/scheduling/writer.js'

t.test('onTransition names the bays before the step is written; session.changed follows the write', async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 9, 0, 0))
  const events = new EventBus<HubEvents>(silent)
  const { db, store } = openDb(t.testdir())
  const order: string[] = []
  let written = 0
  // The sessions sublevel (the SessionDb port), with each synced batch noted as it completes.
  const noting: SessionDb = {
    iterator: () => store.iterator(),
    async batch(ops, options) {
      await store.batch(ops as never, options as never)
      written++
      order.push('written')
    },
  }
  const told: number[][] = []
  const scheduling = createScheduling({
    config: testConfig(),
    clock,
    events,
    store: noting,
    log: silent,
    onTransition: (ids) => {
      told.push([...ids])
      order.push(`told ${[...ids].sort((a, b) => a - b).join(',')} after ${written} writes`)
    },
  })
  events.on('session.changed', 'test', (e) => void order.push(e.change))
  await scheduling.start()
  t.teardown(async () => {
    await scheduling.stop()
    await db.close()
  })
  const start = clock.now() / 1000 + 600
  const booked = await scheduling.submit({ machine_id: [2, 3], status: 'reserved', start_time: start, duration: 3600 }, { origin: 'kiosk_interface', isAdmin: true })
  t.ok(booked.ok)
  order.length = 0
  const before = written
  await runFor({ clock, scheduling }, 600_000, 10_000)
  t.same(told.at(-1), [2, 3], 'both bays of the starting session')
  t.same(order, [`told 2,3 after ${before} writes`, 'written', 'activated'], 'told first, then the durable write, then the event')
  order.length = 0
  await runFor({ clock, scheduling }, 3600_000, 10_000)
  t.same(order, [`told 2,3 after ${before + 1} writes`, 'written', 'completed'], 'the end likewise')
})

/**
 * Time passes while the hub works, and a timer can fire a moment before its second (libuv
 * counts from its cached loop time). Each read of this clock within one turn is 0.4 ms later than
 * the last, and its timers fire 1 ms early.
 */
class EarlyCreepingClock extends FakeClock {
  private crept = 0
  private base = 0
  override now(): number {
    const base = super.now()
    // the creep starts again whenever the fake time moves (a new turn of the event loop)
    if (base !== this.base) [this.base, this.crept] = [base, 0]
    this.crept += 0.4
    return base + this.crept
  }
  override setTimeout(fn: () => void, ms: number): () => void {
    return super.setTimeout(fn, ms - 1)
  }
}

t.test('a lifecycle timer that fires just before the second never moves a session without driving its bays first', async (t) => {
  const clock = new EarlyCreepingClock(Date.UTC(2026, 5, 1, 9, 0, 0))
  const events = new EventBus<HubEvents>(silent)
  const { db, store } = openDb(t.testdir())
  const order: string[] = []
  const scheduling = createScheduling({
    config: testConfig(),
    clock,
    events,
    store,
    log: silent,
    onTransition: (ids) => void order.push(`told ${[...ids].sort((a, b) => a - b).join(',')}`),
  })
  events.on('session.changed', 'test', (e) => void order.push(`${e.change} ${e.session.machine_id.join(',')}`))
  await scheduling.start()
  t.teardown(async () => {
    await scheduling.stop()
    await db.close()
  })
  // Several sessions, so the step's scan takes several reads of the clock.
  const start = Math.ceil(clock.now() / 1000) + 600
  for (const bay of [1, 2, 3, 4, 5, 6]) {
    const booked = await scheduling.submit({ machine_id: [bay], status: 'reserved', start_time: start, duration: 3600 }, { origin: 'kiosk_interface', isAdmin: true })
    t.ok(booked.ok)
  }
  order.length = 0
  await runFor({ clock, scheduling }, 4_300_000, 1_000)
  const moved = order.filter((o) => !o.startsWith('told'))
  t.equal(moved.length, 12, 'every session activated and completed')
  for (const [i, entry] of order.entries()) {
    if (entry.startsWith('told')) continue
    const bay = Number(entry.split(' ')[1])
    const told = order.slice(0, i).reverse().find((o) => o.startsWith('told'))
    t.ok(told?.split(' ')[1]!.split(',').map(Number).includes(bay), `${entry}: its bay was driven before the step (${order.join('; ')})`)
  }
})

t.test("the step's batch waits for the driven controls to be on their sockets, and at most DELIVERIES_WAIT_MS", async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 9, 0, 0))
  const events = new EventBus<HubEvents>(silent)
  const { db, store } = openDb(t.testdir())
  const order: string[] = []
  const noting: SessionDb = {
    iterator: () => store.iterator(),
    async batch(ops, options) {
      await store.batch(ops as never, options as never)
      order.push('written')
    },
  }
  let release = null as (() => void) | null
  let hang = false
  const scheduling = createScheduling({
    config: testConfig(),
    clock,
    events,
    store: noting,
    log: silent,
    onTransition: () => {
      order.push('told')
      return hang ? new Promise<void>(() => undefined) : new Promise<void>((resolve) => (release = resolve))
    },
  })
  events.on('session.changed', 'test', (e) => void order.push(e.change))
  await scheduling.start()
  t.teardown(async () => {
    await scheduling.stop()
    await db.close()
  })
  const start = clock.now() / 1000 + 600
  const booked = await scheduling.submit({ machine_id: [2], status: 'reserved', start_time: start, duration: 3600 }, { origin: 'kiosk_interface', isAdmin: true })
  t.ok(booked.ok)
  order.length = 0
  const started = runFor({ clock, scheduling }, 600_000, 10_000)
  while (release === null) await new Promise((resolve) => setImmediate(resolve))
  // several turns of the event loop and a real timer: the batch is still not built
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(order, ['told'], 'nothing written while the controls are not on their sockets')
  release!()
  await started
  t.same(order, ['told', 'written', 'activated'], 'then the write and its event')

  // A control that never reaches its socket (a dispenser not reading) does not hold the write.
  order.length = 0
  hang = true
  await runFor({ clock, scheduling }, 3600_000, 10_000)
  t.same(order, ['told', 'written', 'completed'], `written after at most ${DELIVERIES_WAIT_MS} ms`)
})
