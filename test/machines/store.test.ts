/**
 * The machine store's synced batch (issue 17): the records go to the root database already
 * prefixed and encoded (src/lib/root-batch.ts), one pass instead of two. What the machines
 * sublevel reads back must be exactly what it would have stored itself, with the audit entries
 * of the same batch in their sibling sublevels; the store reloads it all, exchange-id
 * reservation included.
 */
import t from 'tap'
import { join } from 'node:path'
import { Level } from 'level'
import { createMachineStore, type MachineDb } from '../../src/machines/store.js'
import { emptyRecord, type MachineRecord } from '../../src/machines/record.js'
import { createAuditLog, type AuditSublevel } from '../../src/audit/log.js'

t.test('records, their audit entries and the exchange reservation land as the sublevels store them, and reload', async (t) => {
  const db = new Level<string, unknown>(join(t.testdir(), 'state'), { valueEncoding: 'json' })
  t.teardown(() => db.close())
  const machines = db.sublevel<string, unknown>('machines', { valueEncoding: 'json' })
  const sub = (name: string) => db.sublevel(name, { valueEncoding: 'json' }) as unknown as AuditSublevel
  const audit = createAuditLog({ entries: sub('audit'), bySession: sub('audit-session'), now: () => 1_780_000_000_500 })
  let rootBatches = 0
  const batch = db.batch.bind(db) as (...args: unknown[]) => Promise<void>
  ;(db as unknown as { batch: (...args: unknown[]) => Promise<void> }).batch = (...args: unknown[]) => {
    rootBatches++
    const options = args[1] as { sync?: boolean }
    t.equal(options?.sync, true, 'synced')
    return batch(...args)
  }
  const store = createMachineStore(machines as unknown as MachineDb)

  const one: MachineRecord = { ...emptyRecord(1), reported_status: 'active', session_id: 77, scheduled_until: 1_780_003_600.25, ip_address: '192.168.4.21', offline_reason: null }
  const ten: MachineRecord = { ...emptyRecord(10), error: 'machine 10 refused "active": jammed — ü', alerts: [] }
  const drafts = audit.ops([{ at: 1_780_000_000.5, actor: 'token:admin_portal', kind: 'machine.override', machine_id: [1], before: null, after: { status: 'maintenance' } }])
  await Promise.all([store.save(one, drafts), store.save(ten), store.reserveExchangeIds(20_000)])
  t.equal(rootBatches, 1, 'one batch, written to the root')
  t.same(await machines.get('machine:000001'), one, 'read through its sublevel as it was saved')
  t.same(await machines.get('machine:000010'), ten)
  t.same(await machines.get('meta:exchange'), { reserved_until: 20_000 })
  const page = await audit.query({ machine_id: 1 })
  t.equal(page.entries.length, 1, 'the audit entry, in its sibling sublevels, in the same batch')

  const reloaded = await createMachineStore(machines as unknown as MachineDb).load()
  t.same(reloaded.records.sort((a, b) => a.machine_id - b.machine_id), [one, ten])
  t.equal(reloaded.exchangeReservedUntil, 20_000)

  // saves of the same machine before its batch goes out: written once, with the latest state
  const first = store.save({ ...one, ball_level: 'low' })
  const second = store.save({ ...one, ball_level: 'empty' })
  const third = store.save({ ...one, ball_level: 'medium' })
  await Promise.all([first, second, third])
  t.equal(rootBatches, 2, 'one more batch')
  t.match(await machines.get('machine:000001'), { ball_level: 'medium' })
})

t.test('a store without a root (a plain port) writes through it as before', async (t) => {
  const db = new Level<string, unknown>(join(t.testdir(), 'state'), { valueEncoding: 'json' })
  t.teardown(() => db.close())
  const machines = db.sublevel<string, unknown>('machines', { valueEncoding: 'json' })
  const seen: unknown[][] = []
  const port: MachineDb = {
    batch: (ops, options) => {
      seen.push(ops)
      return machines.batch(ops as never, options as never)
    },
    iterator: () => machines.iterator(),
  }
  const store = createMachineStore(port)
  const rec = { ...emptyRecord(3), reported_status: 'idle' as const }
  await store.save(rec)
  t.same(seen, [[{ type: 'put', key: 'machine:000003', value: rec }]])
  t.same(await machines.get('machine:000003'), rec)
})
