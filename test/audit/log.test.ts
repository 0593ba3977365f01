import t from 'tap'
import { join } from 'node:path'
import { Level } from 'level'
import { createAuditLog, type AuditSublevel } from '../../src/audit/log.js'

t.test('ids stay ordered and unique when the clock steps back; retention deletes only old entries and their index', async (t) => {
  const db = new Level<string, unknown>(join(t.testdir(), 'state'), { valueEncoding: 'json' })
  t.teardown(() => db.close())
  let nowMs = Date.UTC(2026, 0, 10, 10, 0, 0)
  const sub = (name: string) => db.sublevel(name, { valueEncoding: 'json' }) as unknown as AuditSublevel
  const log = createAuditLog({ entries: sub('audit'), bySession: sub('audit-session'), now: () => nowMs })
  await log.start()
  const draft = (sessionId: number, atS: number) => ({ at: atS, actor: 'system', kind: 'session.created' as const, session_id: sessionId, before: null, after: {} })
  const first = await log.append([draft(1, nowMs / 1000 - 40 * 86400), draft(2, nowMs / 1000)])
  nowMs -= 3_600_000 // the clock steps back an hour (issue 15)
  const later = await log.append([draft(3, nowMs / 1000)])
  const ids = [...first, ...later].map((e) => e.id)
  t.same([...ids].sort(), ids, 'ids in write order')
  t.equal(new Set(ids).size, 3, 'no id reused')

  const restarted = createAuditLog({ entries: sub('audit'), bySession: sub('audit-session'), now: () => nowMs })
  await restarted.start()
  const [after] = await restarted.append([draft(4, nowMs / 1000)])
  t.ok(after!.id > ids[2]!, 'a restarted log continues after the last id')

  // entry 1 is "old" only by its id time: prune by id (write time), as retention does
  t.equal(await restarted.prune(nowMs / 1000 + 7200), 4, 'everything written before the cutoff goes')
  t.same((await restarted.query({})).entries, [])
  t.same((await restarted.query({ session_id: 2 })).entries, [], 'and its session index')
})
