/**
 * The session store's start-up read (src/scheduling/store.ts `load`): live sessions and remembered
 * idempotency keys come back exactly as written, across several of the batches the read is made
 * in (nextv of 1,000), with the repeated texts (booked_by, origin_node, status, currency) shared
 * but equal; archived sessions stay out of it, except for the id allocator's floor. A broken value
 * fails the read cleanly; the read the hub begins early (issue 17) is the one start() takes.
 */
import t from 'tap'
import type { SessionRecord } from '../../src/protocol/messages.js'
import { createLevelSessionStore, type StoredSession } from '../../src/scheduling/store.js'
import { createScheduling, readLiveSessions } from '../../src/scheduling/index.js'
import { EventBus } from '../../src/lib/event-bus.js'
import type { HubEvents } from '../../src/protocol/events.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { openDb, silent, testConfig } from './world.js'

const session = (id: number): StoredSession => ({
  record: {
    session_id: id,
    machine_id: id % 7 === 0 ? [1, 2] : [1 + (id % 20)],
    status: (['reserved', 'completed', 'cancelled'] as const)[id % 3]!,
    start_time: 1_780_000_000 + id * 600,
    end_time: 1_780_000_000 + id * 600 + 1800,
    duration: 1800,
    origin_node: id % 2 ? 'kiosk_interface' : 'reservation_interface',
    booked_by: id % 5 ? 'token:lobby-kiosk' : `staff:zoë ${id % 3}`,
    created_at: 1_779_990_000,
    updated_at: 1_779_990_000 + id,
    ...(id % 4 === 0 && { price: { amount: 1250 + id, currency: 'EUR' } }),
    ...(id % 9 === 0 && { external_id: `ext-${id}` }),
  } as SessionRecord,
  submitted: id % 2 ? null : `fp-${id}`,
})

t.test('load returns every live session and key as written, over several read batches; archived ones stay out', async (t) => {
  const { db, store: live, archive } = openDb(t.testdir())
  t.teardown(() => db.close())
  const store = createLevelSessionStore(live as never, archive as never)
  const sessions = Array.from({ length: 2500 }, (_, i) => session(i + 1))
  const keys = Array.from({ length: 30 }, (_, i) => ({ id: `kiosk_interface:key-${i}`, fingerprint: `f${i}`, at: 1_779_990_000 + i, created: i % 2 === 0, record: session(i + 1).record }))
  await store.write({ sessions, remember: keys, forget: [] })
  await store.write({ sessions: [], remember: [], forget: [], archive: [sessions[0]!, sessions[1]!] })

  const loaded = await store.load()
  const byId = new Map(loaded.sessions.map((s) => [s.record.session_id, s]))
  t.equal(loaded.sessions.length, 2498, 'every live session, none archived')
  t.notOk(byId.has(1) || byId.has(2), 'archived sessions are not loaded')
  t.same(loaded.sessions, sessions.slice(2), 'each record and fingerprint exactly as written, in id order')
  t.same(loaded.keys.sort((a, b) => a.at - b.at), keys, 'the remembered keys')
  t.equal(loaded.archivedMaxId, 2, 'the archive floors the id allocator')
  t.equal(byId.get(4)!.record.price!.currency, 'EUR')
  t.equal(byId.get(10)!.record.booked_by, 'staff:zoë 1')
})

t.test('an empty store loads nothing', async (t) => {
  const { db, store: live, archive } = openDb(t.testdir())
  t.teardown(() => db.close())
  t.same(await createLevelSessionStore(live as never, archive as never).load(), { sessions: [], keys: [], archivedMaxId: 0 })
})

t.test('the read goes to the root database and takes only this sublevel, whatever its neighbours are called', async (t) => {
  const { db, store: live, archive } = openDb(t.testdir())
  t.teardown(() => db.close())
  const store = createLevelSessionStore(live as never, archive as never)
  await store.write({ sessions: [session(1), session(2)], remember: [], forget: [] })
  // neighbours whose names share the prefix, before and after it in key order, and a root key
  await db.sublevel<string, unknown>('session', { valueEncoding: 'json' }).put('0000000000000003', session(3))
  await db.sublevel<string, unknown>('sessions2', { valueEncoding: 'json' }).put('0000000000000004', session(4))
  await db.sublevel<string, unknown>('sessions-x', { valueEncoding: 'json' }).put('0000000000000005', session(5))
  await db.put('!sessions', session(6))
  const reads: Array<Record<string, unknown>> = []
  const rootIterator = db.iterator.bind(db)
  ;(db as unknown as { iterator: typeof db.iterator }).iterator = ((options: Record<string, unknown>) => (reads.push(options), rootIterator(options as never))) as unknown as typeof db.iterator
  const loaded = await store.load()
  t.same(loaded.sessions, [session(1), session(2)], 'this sublevel only')
  t.same(reads.filter((o) => o.gte === '!sessions!'), [{ gte: '!sessions!', lt: '!sessions"', keyEncoding: 'utf8', valueEncoding: 'utf8' }], 'one read of its range, as text, on the root')
})

t.test('a sublevel that is not json is read through itself', async (t) => {
  const { db } = openDb(t.testdir())
  t.teardown(() => db.close())
  const text = db.sublevel<string, string>('sessions', { valueEncoding: 'utf8' })
  await text.put('0000000000000001', JSON.stringify(session(1)))
  const loaded = await createLevelSessionStore(text as never).load()
  t.same(loaded.sessions, [], 'text values are not sessions (the sublevel decodes, not the store)')
})

t.test('a value that is not JSON fails the read, after the read in flight ends and the iterator closes', async (t) => {
  const { db, store: live, archive } = openDb(t.testdir())
  const store = createLevelSessionStore(live as never, archive as never)
  await store.write({ sessions: Array.from({ length: 1500 }, (_, i) => session(i + 1)), remember: [], forget: [] })
  // in the first read batch, so the second batch is being read when the parse fails
  await db.put('!sessions!0000000000000010', '{"record":', { valueEncoding: 'utf8' })
  await t.rejects(store.load(), SyntaxError, 'the broken value fails the load')
  await t.resolves(db.close(), 'the database closes: no iterator left open')
})

t.test('the hub begins the start-up read early: start() takes that read once, and a later start reads again', async (t) => {
  const { db, store: live, archive, calendarDb } = openDb(t.testdir())
  t.teardown(() => db.close())
  await createLevelSessionStore(live as never, archive as never).write({ sessions: [session(1), session(2)], remember: [], forget: [] })
  // the reads of the live range (the archive's one key is read through the root too)
  const reads: string[] = []
  const rootIterator = db.iterator.bind(db)
  ;(db as unknown as { iterator: typeof db.iterator }).iterator = ((options: Record<string, unknown>) => (options.gte === '!sessions!' && reads.push('live'), rootIterator(options as never))) as unknown as typeof db.iterator
  const early = readLiveSessions(live as never, archive as never)
  t.same(reads, ['live'], 'the read starts when asked, before scheduling exists')
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 9, 0, 0))
  const scheduling = createScheduling({ config: testConfig(), clock, events: new EventBus<HubEvents>(silent), store: live as never, archive: archive as never, calendarDb: calendarDb as never, log: silent, loaded: early })
  await scheduling.start()
  t.same(reads, ['live'], 'start() reads nothing more')
  t.same(scheduling.get(1), session(1).record, 'what the early read found is served')
  t.ok(scheduling.get(2))
  await scheduling.stop()
  await scheduling.start()
  t.same(reads, ['live', 'live'], 'a second start reads the sublevel again')
  await scheduling.stop()
})
