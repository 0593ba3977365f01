/**
 * issue 17: a step that changes nothing and reads nothing its batch changed (a refused booking, a
 * repeat) is answered without waiting for its batch's synced write; one that depends on a change
 * still being written waits for it. The real LevelDB store, with each synced batch held until the
 * test lets it go.
 */
import t from 'tap'
import { EventBus } from '../../src/lib/event-bus.js'
import type { HubEvents } from '../../src/protocol/events.js'
import { createScheduling } from '../../src/scheduling/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { kiosk, openDb, silent, testConfig } from './world.js'

const H = 3600

interface Held {
  release(): void
  fail(error: Error): void
}

/** The sessions sublevel of a real LevelDB whose synced batches wait while `hold` is on. */
function heldStore(dir: string) {
  const { db, store, archive, calendarDb } = openDb(dir)
  const held: Held[] = []
  const gate = { hold: false }
  const bound = <T extends object>(target: T, prop: string | symbol) => {
    const value = Reflect.get(target, prop, target) as unknown
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
  }
  const root = new Proxy(db, {
    get(target, prop) {
      if (prop !== 'batch') return bound(target, prop)
      return async (...args: Parameters<typeof db.batch>) => {
        if (gate.hold) await new Promise<void>((resolve, reject) => held.push({ release: resolve, fail: reject }))
        return (target.batch as (...a: unknown[]) => Promise<void>)(...args)
      }
    },
  })
  const sessions = new Proxy(store, { get: (target, prop) => (prop === 'db' ? root : bound(target, prop)) })
  return { db, sessions, archive, calendarDb, held, gate }
}

async function world(t: { testdir(): string; teardown(fn: () => unknown): void }) {
  const s = heldStore(t.testdir())
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 9, 0, 0))
  const events = new EventBus<HubEvents>(silent)
  const scheduling = createScheduling({ config: testConfig(), clock, events, store: s.sessions as never, archive: s.archive, calendarDb: s.calendarDb, log: silent })
  await scheduling.start()
  t.teardown(async () => {
    s.gate.hold = false
    for (const h of s.held.splice(0)) h.release()
    await scheduling.stop()
    await s.db.close()
  })
  const settled: string[] = []
  const track = <T>(name: string, p: Promise<T>) => p.then((v) => (settled.push(name), v), (e: unknown) => (settled.push(`${name} failed`), Promise.reject(e)))
  const heldCount = async (n: number) => {
    while (s.held.length < n) await new Promise((resolve) => setImmediate(resolve))
  }
  /** Event-loop turns until `names` are all answered (a bounded wait: a missing answer fails, never hangs). */
  const answered = async (...names: string[]) => {
    for (let turn = 0; turn < 100 && !names.every((n) => settled.includes(n)); turn++) await new Promise((resolve) => setImmediate(resolve))
    return names.every((n) => settled.includes(n))
  }
  return { ...s, clock, scheduling, settled, track, heldCount, answered, start: clock.nowSeconds() + H }
}

t.test('a refusal decided on durable state is answered before its batch is written; one decided on a change being written waits for it', async (t) => {
  const w = await world(t)
  const a = await w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: w.start, duration: H }, kiosk)
  t.ok(a.ok, 'A booked (durable)')
  w.gate.hold = true
  const b = w.track('B', w.scheduling.submit({ machine_id: 2, status: 'reserved', start_time: w.start, duration: H }, kiosk))
  await w.heldCount(1)
  // Queued while B's batch is being written: the next batch, planned once B is durable.
  const c = w.track('C', w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: w.start + 600, duration: 600 }, kiosk))
  const d = w.track('D', w.scheduling.submit({ machine_id: 2, status: 'reserved', start_time: w.start + 600, duration: 600 }, kiosk))
  const e = w.track('E', w.scheduling.submit({ machine_id: 3, status: 'reserved', start_time: w.start, duration: H }, kiosk))
  const f = w.track('F', w.scheduling.submit({ machine_id: 3, status: 'reserved', start_time: w.start + 600, duration: 600 }, kiosk))
  t.same(w.settled, [], 'nothing answered while B is being written')
  w.held.shift()!.release()
  await w.heldCount(1)
  t.ok(await w.answered('C', 'D'), 'C and D answered while the batch holding them is still being written')
  const [rc, rd] = await Promise.all([c, d])
  t.match(rc, { ok: false, code: 'SESSION_CONFLICT', message: /taken by session 1/ }, 'C: refused over A')
  t.match(rd, { ok: false, code: 'SESSION_CONFLICT', message: /taken by session 2/ }, 'D: refused over B, durable by then')
  t.same(w.settled, ['B', 'C', 'D'], 'B confirmed first, then the refusals, while E and F are still being written')
  w.held.shift()!.release()
  t.match(await e, { ok: true, value: { session: { machine_id: [3] } } })
  t.match(await f, { ok: false, code: 'SESSION_CONFLICT', message: /taken by session 3/ }, 'F waited: it was refused over E, written in the same batch')
  t.same(w.settled, ['B', 'C', 'D', 'E', 'F'])
  t.ok((await b).ok)
})

t.test('a failed write: early refusals stand, the rest of the batch hears the failure, nothing of it is kept', async (t) => {
  const w = await world(t)
  await w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: w.start, duration: H }, kiosk)
  w.gate.hold = true
  const first = w.track('first', w.scheduling.submit({ machine_id: 4, status: 'reserved', start_time: w.start, duration: H }, kiosk))
  await w.heldCount(1)
  const refused = w.track('refused', w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: w.start + 600, duration: 600 }, kiosk))
  const booked = w.track('booked', w.scheduling.submit({ machine_id: 5, status: 'reserved', start_time: w.start, duration: H }, kiosk))
  const overBooked = w.track('overBooked', w.scheduling.submit({ machine_id: 5, status: 'reserved', start_time: w.start + 600, duration: 600 }, kiosk))
  w.held.shift()!.release()
  await w.heldCount(1)
  t.ok(await w.answered('refused'), 'answered before the write')
  t.match(await refused, { ok: false, code: 'SESSION_CONFLICT' })
  w.held.shift()!.fail(new Error('disk full'))
  await t.rejects(booked, /disk full/)
  await t.rejects(overBooked, /disk full/, 'refused over a booking that was never written: it hears the failure, not the refusal')
  t.ok((await first).ok)
  t.equal(w.scheduling.list({ machineId: 5 }).length, 0, 'nothing of the failed batch is in the schedule')
  w.gate.hold = false
  t.match(await w.scheduling.submit({ machine_id: 5, status: 'reserved', start_time: w.start, duration: H }, kiosk), { ok: true }, 'bay 5 is free')
})

t.test('an idempotent repeat of a durable booking is answered early; a repeat of one being written waits', async (t) => {
  const w = await world(t)
  const body = { machine_id: 6, status: 'reserved' as const, start_time: w.start, duration: H }
  const first = await w.scheduling.submit(body, { ...kiosk, idempotency: { key: 'k-1', field: 'Idempotency-Key' } })
  if (!first.ok) return t.fail('booked')
  w.gate.hold = true
  const other = w.track('other', w.scheduling.submit({ ...body, machine_id: 7 }, { ...kiosk, idempotency: { key: 'k-2', field: 'Idempotency-Key' } }))
  await w.heldCount(1)
  const repeat = w.track('repeat', w.scheduling.submit(body, { ...kiosk, idempotency: { key: 'k-1', field: 'Idempotency-Key' } }))
  const fresh = w.track('fresh', w.scheduling.submit({ ...body, machine_id: 8 }, { ...kiosk, idempotency: { key: 'k-3', field: 'Idempotency-Key' } }))
  const freshAgain = w.track('freshAgain', w.scheduling.submit({ ...body, machine_id: 8 }, { ...kiosk, idempotency: { key: 'k-3', field: 'Idempotency-Key' } }))
  w.held.shift()!.release()
  await w.heldCount(1)
  t.ok(await w.answered('repeat'), 'answered before the write')
  t.match(await repeat, { ok: true, value: { replay: true, session: { session_id: first.value.session.session_id } } })
  t.same(w.settled, ['other', 'repeat'], 'the repeat of the durable booking is answered while the next batch is written')
  w.held.shift()!.release()
  const [a, b] = await Promise.all([fresh, freshAgain])
  t.ok(a.ok && b.ok && b.value.replay && a.value.session.session_id === b.value.session.session_id, 'the repeat of a key first seen in the same batch waited and got the same session')
})
