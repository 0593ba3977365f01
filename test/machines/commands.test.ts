import t from 'tap'
import {
  EXCHANGE_BLOCK,
  answers,
  buildControl,
  confirmationOutcome,
  firstSend,
  onTimeout,
  restoreExchangeIds,
  sameTarget,
  takeExchangeId,
  waitMs,
} from '../../src/machines/commands.js'

const policy = { timeoutMs: 2000, tries: 3 }
const target = { status: 'active' as const, session_id: 812, scheduled_until: 1_767_265_200 }

t.test('a control carries the DESIGN §4 fields', async (t) => {
  const c = buildControl(2, target, 77, 1_767_261_600_010)
  t.same(c, {
    machine_id: 2, session_id: 812, status: 'active', scheduled_until: 1_767_265_200, timestamp: 1_767_261_600.01,
    exchange_id: 77, origin_node: 'machine_handler', destination_node: 'machine_002',
  })
})

t.test('retry after 2 s, then 4 s, then fail after 3 tries in all', async (t) => {
  t.same([1, 2, 3].map((a) => waitMs(a, policy)), [2000, 4000, 8000])
  const f1 = firstSend(buildControl(1, target, 5, 0), 0, policy)
  t.equal(f1.dueMs, 2000)
  const r2 = onTimeout(f1, 2000, policy)
  if (r2.kind !== 'resend') throw new Error('expected resend')
  t.equal(r2.next.attempt, 2)
  t.equal(r2.next.dueMs, 6000)
  t.equal(r2.next.command.exchange_id, 5, 'same exchange id on resend')
  t.equal(r2.next.command.timestamp, 2, 'fresh timestamp for the fail-safe')
  const r3 = onTimeout(r2.next, 6000, policy)
  if (r3.kind !== 'resend') throw new Error('expected resend')
  t.equal(r3.next.attempt, 3)
  const end = onTimeout(r3.next, 14000, policy)
  t.same(end, { kind: 'fail', reason: 'no confirmation after 3 tries (14.0 s)' })
})

t.test('a Confirmation answers by exchange id and machine; latency from the first send', async (t) => {
  const f = firstSend(buildControl(3, target, 9, 1000), 1000, policy)
  t.ok(answers(f, 3, { success: true, exchange_id: 9 }))
  t.notOk(answers(f, 4, { success: true, exchange_id: 9 }), 'other machine')
  t.notOk(answers(f, 3, { success: true, exchange_id: 8 }), 'other exchange')
  t.same(confirmationOutcome(f, { success: true, exchange_id: 9 }, 1012), { kind: 'confirmed', latencyMs: 12 })
  t.same(confirmationOutcome(f, { success: false, exchange_id: 9, message: 'motor jammed' }, 1012), { kind: 'refused', message: 'motor jammed' })
})

t.test('targets compare by status, session and until (float seconds)', async (t) => {
  t.ok(sameTarget(target, { ...target, scheduled_until: target.scheduled_until + 0.0001 }))
  t.notOk(sameTarget(target, { ...target, session_id: null }))
  t.notOk(sameTarget(target, { ...target, status: 'idle' }))
  t.notOk(sameTarget(target, { ...target, scheduled_until: null }))
})

t.test('exchange ids come from durably reserved blocks and never repeat after a restart', async (t) => {
  let s = restoreExchangeIds(undefined)
  const first = takeExchangeId(s)
  t.equal(first.id, 1)
  t.equal(first.reserve, 1 + EXCHANGE_BLOCK, 'first id reserves a block')
  s = first.state
  const second = takeExchangeId(s)
  t.equal(second.id, 2)
  t.equal(second.reserve, null, 'inside the block: no write')
  // kill -9 here: the next start resumes after the reserved block
  const restarted = takeExchangeId(restoreExchangeIds(first.reserve ?? 0))
  t.equal(restarted.id, 1 + EXCHANGE_BLOCK)
  t.ok(restarted.reserve !== null)
})

t.test('the next exchange-id block is reserved while half of the current one is left (a burst never waits for a write)', async (t) => {
  let s = takeExchangeId(restoreExchangeIds(undefined)).state
  const reserves: number[] = []
  for (let i = 0; i < EXCHANGE_BLOCK; i++) {
    const taken = takeExchangeId(s)
    s = taken.state
    if (taken.reserve !== null) reserves.push(taken.reserve)
    t.ok(taken.id < s.reservedUntil, 'every id lies inside a requested block')
  }
  t.same(reserves, [1 + 2 * EXCHANGE_BLOCK], 'one reservation ahead, at half the block')
  const restarted = takeExchangeId(restoreExchangeIds(reserves[0]))
  t.equal(restarted.id, 1 + 2 * EXCHANGE_BLOCK, 'a restart resumes after the furthest reservation')
})
