/**
 * The session store's start-up read (src/scheduling/store.ts `load`): live sessions and remembered
 * idempotency keys come back exactly as written, across several of the batches the read is made
 * in (nextv of 1,000), with the repeated texts (booked_by, origin_node, status, currency) shared
 * but equal; archived sessions stay out of it, except for the id allocator's floor.
 */
import t from 'tap'
import type { SessionRecord } from '../../src/protocol/messages.js'
import { createLevelSessionStore, type StoredSession } from '../../src/scheduling/store.js'
import { openDb } from './world.js'

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
