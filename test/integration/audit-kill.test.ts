/**
 * Issue 13: a change and its audit entry are written in one synced batch, so after kill -9 in
 * the middle of a stream of bookings both are there or both are absent, for every booking.
 */
import t from 'tap'
import { join } from 'node:path'
import { Level } from 'level'
import { startHubProcess } from '../helpers/hub-process.js'

const ADMIN = 'audit-kill-admin-token-0123456789'

t.test('kill -9 during bookings: every session has its audit entry and every entry its session', async (t) => {
  const dir = t.testdir()
  const env = { HUB_DATA_DIR: dir, HUB_MACHINES: '1-20', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: ADMIN, HUB_HTTP_BOOKINGS_PER_MINUTE: '100000' }
  const hub = await startHubProcess(env)
  t.teardown(() => hub.kill())
  const base = Math.ceil(Date.now() / 1000 / 3600) * 3600 + 86_400
  const confirmed = new Set<number>()
  let sent = 0
  let stop = false
  const post = async (i: number) => {
    const res = await fetch(`http://127.0.0.1:${hub.httpPort}/api/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ machine_id: (i % 20) + 1, status: 'reserved', start_time: base + Math.floor(i / 20) * 3600, duration: 3600 }),
    }).catch(() => undefined)
    if (res?.status === 201) confirmed.add(((await res.json()) as { session_id: number }).session_id)
  }
  // Eight requests in flight at all times, so the kill lands between, during and after batches.
  const workers = Array.from({ length: 8 }, async () => {
    while (!stop) await post(sent++)
  })
  while (confirmed.size < 40) await new Promise((r) => setTimeout(r, 2))
  await hub.kill('SIGKILL')
  stop = true
  await Promise.all(workers)

  // Start again (LevelDB recovers its log), then stop cleanly and read the store directly.
  const again = await startHubProcess(env)
  await again.kill('SIGTERM')
  const db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  t.teardown(() => db.close())
  const sessions = new Set<number>()
  for await (const [key, value] of db.sublevel('sessions', { valueEncoding: 'json' }).iterator()) {
    if (!key.startsWith('~')) sessions.add((value as unknown as { record: { session_id: number } }).record.session_id)
  }
  const created = new Map<number, number>()
  for await (const [, value] of db.sublevel('audit', { valueEncoding: 'json' }).iterator()) {
    const e = value as unknown as { kind: string; session_id: number; actor: string }
    if (e.kind === 'session.created') created.set(e.session_id, (created.get(e.session_id) ?? 0) + 1)
    t.equal(e.actor, 'token:admin_portal')
  }
  t.ok(sessions.size >= 40, `${sessions.size} sessions stored, ${sent} sent`)
  for (const id of confirmed) t.ok(sessions.has(id), `confirmed session ${id} is there`)
  const missingEntry = [...sessions].filter((id) => created.get(id) !== 1)
  const orphanEntry = [...created.keys()].filter((id) => !sessions.has(id))
  t.same(missingEntry, [], 'every session has exactly one creation entry')
  t.same(orphanEntry, [], 'no entry without its session')
})

t.test('kill -9 during machine overrides: each bay\'s override and its audit entry are both there or both absent', async (t) => {
  const dir = t.testdir()
  const env = { HUB_DATA_DIR: dir, HUB_MACHINES: '1-20', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: ADMIN }
  const hub = await startHubProcess(env)
  t.teardown(() => hub.kill())
  const until = Math.floor(Date.now() / 1000) + 86_400
  // per bay: how many changes the hub confirmed (200) and how many it was sent
  const confirmed = new Map<number, number>()
  const sent = new Map<number, number>()
  let stop = false
  let total = 0
  const override = async (bay: number, n: number) => {
    sent.set(bay, n + 1)
    // even: maintenance; odd: release. Every request is a real change of the bay's override.
    const body = n % 2 === 0 ? { status: 'maintenance', scheduled_until: until, reason: `step ${n}` } : { release: true, reason: `step ${n}` }
    const res = await fetch(`http://127.0.0.1:${hub.httpPort}/api/machines/${bay}/override`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).catch(() => undefined)
    if (res?.status === 200) {
      confirmed.set(bay, n + 1)
      total++
    }
    return res?.status === 200
  }
  // Eight workers, each owning its bays, so the changes of one bay are strictly in order.
  const workers = Array.from({ length: 8 }, async (_, w) => {
    const bays = [w + 1, w + 9, w + 17].filter((b) => b <= 20)
    for (let n = 0; !stop; n++) {
      for (const bay of bays) if (!stop && !(await override(bay, n))) return
    }
  })
  while (total < 60) await new Promise((r) => setTimeout(r, 2))
  await hub.kill('SIGKILL')
  stop = true
  await Promise.all(workers)

  const again = await startHubProcess(env)
  await again.kill('SIGTERM')
  const db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  t.teardown(() => db.close())
  const held = new Map<number, string | null>()
  for await (const [key, value] of db.sublevel('machines', { valueEncoding: 'json' }).iterator()) {
    if (!key.startsWith('machine:')) continue
    const record = value as unknown as { machine_id: number; admin: { status: string } | null }
    held.set(record.machine_id, record.admin?.status ?? null)
  }
  const entries = new Map<number, Array<{ kind: string; reason: string; actor: string }>>()
  for await (const [, value] of db.sublevel('audit', { valueEncoding: 'json' }).iterator()) {
    const e = value as unknown as { kind: string; machine_id: number[]; reason: string; actor: string }
    if (!e.kind.startsWith('machine.')) continue
    const list = entries.get(e.machine_id[0]!) ?? []
    list.push(e)
    entries.set(e.machine_id[0]!, list)
  }
  t.ok(total >= 60, `${total} overrides confirmed before the kill`)
  for (let bay = 1; bay <= 20; bay++) {
    const list = entries.get(bay) ?? []
    const done = confirmed.get(bay) ?? 0
    t.ok(list.length >= done && list.length <= (sent.get(bay) ?? 0), `bay ${bay}: ${list.length} entries, ${done} confirmed, ${sent.get(bay) ?? 0} sent`)
    t.same(list.map((e) => e.reason), list.map((_, n) => `step ${n}`), `bay ${bay}: one entry per change, in order, none lost between`)
    const last = list[list.length - 1]
    const expected = last === undefined || last.kind === 'machine.released' ? null : 'maintenance'
    t.equal(held.get(bay) ?? null, expected, `bay ${bay}: the stored override is what its last entry says`)
  }
})
