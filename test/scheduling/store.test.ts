/**
 * The session store's synced batch (issue 17): the operations go to the root database already
 * prefixed and encoded, one pass instead of two. What each sublevel reads back must be exactly
 * what it would have stored itself: the session, its audit entry in a sibling sublevel, a move
 * to the archive, a deleted key.
 */
import t from 'tap'
import { join } from 'node:path'
import { Level } from 'level'
import { createLevelSessionStore, type ArchiveDb, type SessionDb, type StoredSession } from '../../src/scheduling/store.js'
import { createAuditLog, type AuditSublevel } from '../../src/audit/log.js'

const record = (id: number, start: number) => ({
  session_id: id,
  machine_id: [3, 4],
  status: 'reserved' as const,
  start_time: start,
  end_time: start + 3000,
  duration: 3000,
  origin_node: 'kiosk_interface',
  created_at: 1_780_000_000.5,
  updated_at: 1_780_000_000.5,
  details: { customer_name: 'Zoë "Z" Ünal' },
})

t.test('a batch lands in each sublevel as that sublevel would store it, and reloads', async (t) => {
  const db = new Level<string, unknown>(join(t.testdir(), 'state'), { valueEncoding: 'json' })
  const sessions = db.sublevel<string, unknown>('sessions', { valueEncoding: 'json' })
  const archiveDb = db.sublevel<string, unknown>('sessions-archive', { valueEncoding: 'json' })
  const sub = (name: string) => db.sublevel(name, { valueEncoding: 'json' }) as unknown as AuditSublevel
  const audit = createAuditLog({ entries: sub('audit'), bySession: sub('audit-session'), now: () => 1_780_000_000_500 })
  const store = createLevelSessionStore(sessions as unknown as SessionDb, archiveDb as unknown as ArchiveDb)

  const a: StoredSession = { record: record(1, 1_780_010_000), submitted: '[[3,4],"reserved"]' }
  const b: StoredSession = { record: record(2, 1_780_020_000), submitted: null }
  const drafts = audit.ops([{ at: 1_780_000_000.5, actor: 'token:kiosk_interface', kind: 'session.created', session_id: 1, machine_id: [3, 4], before: null, after: { status: 'reserved' } }])
  await store.write({ sessions: [a, b], remember: [{ id: 'k1', fingerprint: 'f', at: 1_780_000_000, created: true, record: a.record }], forget: [], audit: drafts })
  t.same(await sessions.get('0000000000000001'), a, 'the session, read through its sublevel')
  t.same(await sessions.get('~key:k1'), { remembered: { id: 'k1', fingerprint: 'f', at: 1_780_000_000, created: true, record: a.record } }, 'the idempotency key beside it')
  const page = await audit.query({ session_id: 1 })
  t.equal(page.entries.length, 1, 'the audit entry, found through the sibling sublevels')
  t.equal(page.entries[0]!.kind, 'session.created')

  // A move to the archive and a forgotten key in the next batch.
  await store.write({ sessions: [], remember: [], forget: ['k1'], archive: [b] })
  t.equal(await sessions.get('0000000000000002'), undefined, 'the archived session left the live sublevel')
  t.equal(await sessions.get('~key:k1'), undefined, 'the forgotten key is gone')
  t.same(await store.getArchived(2), b, 'and is in the archive, by id')
  const loaded = await store.load()
  t.same(loaded.sessions, [a], 'start-up reads what was written')
  t.equal(loaded.archivedMaxId, 2)
  await db.close()
})

t.test('a sublevel that does not store utf8 values gets the batch as it is', async (t) => {
  const db = new Level<string, unknown>(join(t.testdir(), 'state'), { valueEncoding: 'json' })
  const sessions = db.sublevel<string, unknown>('sessions', { valueEncoding: 'json' })
  const binary = db.sublevel<string, Uint8Array>('binary', { valueEncoding: 'view' })
  const store = createLevelSessionStore(sessions as unknown as SessionDb)
  const a: StoredSession = { record: record(7, 1_780_010_000), submitted: null }
  const raw = new Uint8Array([0, 255, 1])
  await store.write({ sessions: [a], remember: [], forget: [], audit: [{ type: 'put', key: 'x', value: raw, sublevel: binary as never }] })
  t.same(await sessions.get('0000000000000007'), a)
  t.same(Array.from((await binary.get('x'))!), [0, 255, 1], 'the binary value is stored unchanged')
  await db.close()
})
