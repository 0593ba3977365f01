/**
 * Holds, payments, no-shows and kiosk extensions on the FakeClock (issue 12): the scheduling
 * module on a real LevelDB, the price port a flat 10.00 EUR per bay and hour.
 */
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import type { PricingFn } from '../../src/scheduling/index.js'
import type { PaymentInput } from '../../src/scheduling/types.js'
import { buildWorld, runFor } from './world.js'

/** 1000 minor units per bay and hour, by the minute. */
const flat: PricingFn = (b) => ({ amount: Math.round(((b.end_time - b.start_time) / 3600) * 1000 * b.machine_id.length), currency: 'EUR' })
const kiosk = { origin: 'kiosk_interface', channel: 'kiosk' as const }
const reservation = { origin: 'reservation_interface', channel: 'reservation' as const }
const staff = { origin: 'admin_portal', isAdmin: true, actor: { kind: 'staff' as const, name: 'mia' } }
const cash = (ref: string): PaymentInput => ({ payment_id: `counter:${ref}`, provider: 'counter', method: 'cash', reference: ref, late: 'refuse' })
const card = (ref: string): PaymentInput => ({ payment_id: `terminal:${ref}`, provider: 'terminal', reference: ref, currency: 'EUR', late: 'refund' })

async function book(w: Awaited<ReturnType<typeof buildWorld>>, startInS: number, durationS = 3600, options: object = kiosk, bays: number | number[] = 1) {
  const r = await w.scheduling.submit({ machine_id: bays, status: 'reserved', start_time: w.clock.now() / 1000 + startInS, duration: durationS }, { ...kiosk, ...options })
  if (!r.ok) throw new Error(r.message)
  return r.value.session
}

t.test('a kiosk booking with a price is held: bays blocked, dispenser idle, released after HUB_HOLD_MINUTES', async (t) => {
  const w = await buildWorld(t, { pricing: flat })
  const now = w.clock.now() / 1000
  const s = await book(w, 0)
  t.equal(s.status, 'held')
  t.same(s.price, { amount: 1000, currency: 'EUR' }, 'the session stores the price it was sold at')
  t.equal(s.hold_until, now + 600, 'held for HUB_HOLD_MINUTES (10)')
  t.equal(w.scheduling.desiredStateFor(1, now + 1), undefined, 'a held bay stays off though its start has come')
  const other = await w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: now + 1800, duration: 600 }, { origin: 'admin_portal', isAdmin: true })
  t.equal(other.ok ? 'booked' : other.code, 'SESSION_CONFLICT', 'its bay is blocked for others')
  await runFor(w, 599_000)
  t.equal(w.scheduling.get(s.session_id)?.status, 'held', 'still held one second before expiry')
  await runFor(w, 1000)
  const expired = w.scheduling.get(s.session_id)!
  t.equal(expired.status, 'cancelled')
  t.equal(expired.released, 'hold_expired')
  t.ok(w.changes.some((c) => c.change === 'expired' && c.session.session_id === s.session_id), 'the owner hears of it (session.changed expired)')
  const again = await w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: w.clock.now() / 1000, duration: 600 }, { origin: 'admin_portal', isAdmin: true })
  t.ok(again.ok, 'the bay is free again')
  t.equal(w.changes.filter((c) => c.change === 'activated' && c.session.session_id === s.session_id).length, 0, 'the hold never ran')
})

t.test('no price table (or nothing to pay), or not a kiosk: booked reserved at once as before', async (t) => {
  const dir = () => mkdtempSync(join(t.testdir(), 'w-'))
  const w = await buildWorld(t, { dir: dir() })
  t.equal((await book(w, 600)).status, 'reserved', 'no pricing port: free')
  const w2 = await buildWorld(t, { pricing: () => ({ amount: 0, currency: 'EUR' }), dir: dir() })
  t.equal((await book(w2, 600)).status, 'reserved', 'a free window (price 0) means no hold')
  const w3 = await buildWorld(t, { pricing: flat, dir: dir() })
  const s = await book(w3, 600, 3600, { origin: 'admin_portal', isAdmin: true, channel: undefined })
  t.equal(s.status, 'reserved', 'staff bookings are not held')
  t.same(s.price, { amount: 1000, currency: 'EUR' }, 'but carry their price')
})

t.test('paid before its start: reserved, then active at the start; the same payment again changes nothing', async (t) => {
  const w = await buildWorld(t, { pricing: flat })
  const s = await book(w, 1800)
  const paid = await w.scheduling.pay(s.session_id, cash('R-1'), staff)
  if (!paid.ok) return t.fail(paid.message)
  t.equal(paid.value.session.status, 'reserved')
  t.equal(paid.value.session.hold_until, undefined)
  t.same(paid.value.session.payments?.map((p) => [p.kind, p.amount, p.currency, p.by]), [['payment', 1000, 'EUR', 'staff:mia']])
  const again = await w.scheduling.pay(s.session_id, cash('R-1'), staff)
  t.ok(again.ok && again.value.replay, 'idempotent by payment id')
  t.equal(w.scheduling.get(s.session_id)?.payments?.length, 1, 'recorded once')
  await runFor(w, 1800_000, 60_000)
  t.equal(w.scheduling.get(s.session_id)?.status, 'active')
  t.equal(w.scheduling.desiredStateFor(1, w.clock.now() / 1000)?.status, 'active')
})

t.test('late start after payment: a hold paid after its start runs at once, to its booked end', async (t) => {
  const w = await buildWorld(t, { pricing: flat })
  const s = await book(w, 0)
  await runFor(w, 180_000)
  t.equal(w.scheduling.desiredStateFor(1, w.clock.now() / 1000), undefined, 'three minutes held: still off')
  const paid = await w.scheduling.pay(s.session_id, card('T-9'), { origin: 'payments', isAdmin: true })
  t.ok(paid.ok)
  await w.clock.advance(0)
  await w.scheduling.idle()
  const active = w.scheduling.get(s.session_id)!
  t.equal(active.status, 'active', 'activated at once')
  t.equal(active.end_time, s.end_time, 'for the remaining time: the end does not move')
  const desired = w.scheduling.desiredStateFor(1, w.clock.now() / 1000)
  t.same([desired?.status, desired?.scheduled_until], ['active', s.end_time])
  t.ok(w.changes.findIndex((c) => c.change === 'paid') < w.changes.findIndex((c) => c.change === 'activated'), 'paid, then activated')
})

t.test('a payment for an expired hold: the counter is refused, a terminal payment is recorded with a refund request', async (t) => {
  const w = await buildWorld(t, { pricing: flat })
  const a = await book(w, 0)
  const b = await book(w, 0, 3600, kiosk, 2)
  await runFor(w, 601_000)
  const counter = await w.scheduling.pay(a.session_id, cash('late'), staff)
  t.equal(counter.ok ? 'paid' : counter.code, 'PAYMENT_INVALID')
  t.match(counter.ok ? '' : counter.message, /hold of session \d+ expired at 10:10; nothing was charged/)
  t.equal(w.scheduling.get(a.session_id)?.payments, undefined, 'nothing marked paid')
  const late = await w.scheduling.pay(b.session_id, card('T-late'), { origin: 'payments', isAdmin: true })
  if (!late.ok) return t.fail(late.message)
  t.ok(late.value.refund)
  const stored = w.scheduling.get(b.session_id)!
  t.equal(stored.status, 'cancelled', 'the bays stay released')
  t.same(stored.payments?.map((p) => p.kind), ['payment', 'refund_requested'])
  t.equal(w.scheduling.desiredStateFor(2, w.clock.now() / 1000), undefined)
})

t.test('bad payments change nothing: wrong currency, too little, nothing due, ended', async (t) => {
  const w = await buildWorld(t, { pricing: flat })
  const s = await book(w, 600)
  const wrong = await w.scheduling.pay(s.session_id, { ...card('x'), currency: 'USD' }, staff)
  t.match(wrong.ok ? '' : wrong.message, /^currency: USD is not the session's currency EUR/)
  const little = await w.scheduling.pay(s.session_id, { ...cash('y'), amount: 500 }, staff)
  t.match(little.ok ? '' : little.message, /^amount: 500 does not cover the 1000 due/)
  const more = await w.scheduling.pay(s.session_id, { ...cash('z'), amount: 5000 }, staff)
  t.match(more.ok ? '' : more.message, /^amount: 5000 is more than the 1000 due/)
  t.equal(w.scheduling.get(s.session_id)?.status, 'held')
  t.ok((await w.scheduling.pay(s.session_id, cash('ok'), staff)).ok)
  const twice = await w.scheduling.pay(s.session_id, cash('other'), staff)
  t.match(twice.ok ? '' : twice.message, /has nothing to pay/)
  const elsewhere = await book(w, 7200)
  const reused = await w.scheduling.pay(elsewhere.session_id, cash('ok'), staff)
  t.match(reused.ok ? '' : reused.message, /already recorded for session/, 'one payment is never counted for two sessions')
})

t.test('a kiosk app that took the money itself books reserved at once; its payment is recorded once', async (t) => {
  const w = await buildWorld(t, { pricing: flat })
  const now = w.clock.now() / 1000
  const r = await w.scheduling.submit({ machine_id: 3, status: 'reserved', start_time: now, duration: 1800, payment: { provider: 'kiosk', reference: 'K-77', amount: 500 } }, kiosk)
  if (!r.ok) return t.fail(r.message)
  t.equal(r.value.session.status, 'reserved')
  t.same(r.value.session.payments?.[0]?.payment_id, 'kiosk:K-77')
  await w.clock.advance(0)
  await w.scheduling.idle()
  t.equal(w.scheduling.get(r.value.session.session_id)?.status, 'active', 'paid walk-up starts now')
  const short = await w.scheduling.submit({ machine_id: 4, status: 'reserved', start_time: now, duration: 1800, payment: { provider: 'kiosk', reference: 'K-78', amount: 100 } }, kiosk)
  t.match(short.ok ? '' : short.message, /^payment.amount: 100 is less than the price 500/)
  const reused = await w.scheduling.submit({ machine_id: 5, status: 'reserved', start_time: now, duration: 1800, payment: { provider: 'kiosk', reference: 'K-77', amount: 500 } }, kiosk)
  t.match(reused.ok ? '' : reused.message, /already recorded for session/)
})

t.test('no-show: a reservation not checked in within HUB_NO_SHOW_MINUTES of its start is released; a checked-in one runs', async (t) => {
  const w = await buildWorld(t, { pricing: flat })
  const gone = await book(w, 1800, 3600, reservation, 1)
  const came = await book(w, 1800, 3600, reservation, 2)
  t.equal(gone.no_show_at, gone.start_time + 900)
  t.equal(gone.status, 'reserved', 'reservations are not held')
  await runFor(w, 1800_000, 60_000)
  t.equal(w.scheduling.desiredStateFor(1, w.clock.now() / 1000)?.status, 'active', 'the bay runs from its start')
  const checked = await w.scheduling.checkIn(came.session_id, { origin: 'kiosk_interface', channel: 'kiosk' })
  t.ok(checked.ok, 'checked in at the kiosk by its code')
  await runFor(w, 899_000, 60_000)
  t.equal(w.scheduling.get(gone.session_id)?.status, 'active', 'one second before the no-show time')
  await runFor(w, 1000)
  const released = w.scheduling.get(gone.session_id)!
  t.same([released.status, released.released], ['cancelled', 'no_show'])
  t.equal(w.scheduling.desiredStateFor(1, w.clock.now() / 1000), undefined, 'its dispenser goes off')
  t.ok(w.changes.some((c) => c.change === 'released' && c.session.session_id === gone.session_id), 'reported (uplink reads session.changed)')
  t.equal(w.scheduling.get(came.session_id)?.status, 'active', 'the checked-in one keeps running')
})

t.test('HUB_NO_SHOW_POLICY=keep keeps no-shows', async (t) => {
  const w = await buildWorld(t, { pricing: flat, env: { HUB_NO_SHOW_POLICY: 'keep' } })
  const s = await book(w, 60, 3600, reservation)
  t.equal(s.no_show_at, undefined)
  await runFor(w, 1200_000, 60_000)
  t.equal(w.scheduling.get(s.session_id)?.status, 'active')
})

t.test('extend from the kiosk: quoted and held; paid, it is merged and the bay runs longer; unpaid, it expires', async (t) => {
  const w = await buildWorld(t, { pricing: flat })
  const s = await book(w, 0, 1800)
  t.ok((await w.scheduling.pay(s.session_id, cash('first'), staff)).ok)
  await runFor(w, 60_000)
  t.equal(w.scheduling.get(s.session_id)?.status, 'active')
  const free = await w.scheduling.submit({ session_id: s.session_id, machine_id: 1, status: 'reserved', duration: 3600 }, kiosk)
  t.equal(free.ok ? 'extended' : free.code, 'PAYMENT_REQUIRED', 'a kiosk cannot lengthen a paid session for free')
  const ext = await w.scheduling.extend(s.session_id, 1800, kiosk)
  if (!ext.ok) return t.fail(ext.message)
  const hold = ext.value.session
  t.same([hold.status, hold.extends, hold.start_time, hold.end_time, hold.price?.amount], ['held', s.session_id, s.end_time, s.end_time + 1800, 500])
  const twice = await w.scheduling.extend(s.session_id, 1800, kiosk)
  t.ok(twice.ok && twice.value.session.session_id === hold.session_id, 'extend pressed twice: the same hold')
  t.equal(w.scheduling.desiredStateFor(1, w.clock.now() / 1000)?.scheduled_until, s.end_time, 'unpaid: the bay still stops at the old end')
  const paid = await w.scheduling.pay(hold.session_id, card('ext-1'), { origin: 'payments', isAdmin: true })
  if (!paid.ok) return t.fail(paid.message)
  const merged = w.scheduling.get(s.session_id)!
  t.same([merged.end_time, merged.duration, merged.price?.amount, merged.payments?.length], [s.end_time + 1800, 3600, 1000, 2])
  t.same([w.scheduling.get(hold.session_id)?.status, w.scheduling.get(hold.session_id)?.released], ['cancelled', 'merged'])
  t.equal(w.scheduling.desiredStateFor(1, w.clock.now() / 1000)?.scheduled_until, s.end_time + 1800, 'the bay runs to the new end')
  const dup = await w.scheduling.pay(hold.session_id, card('ext-1'), { origin: 'payments', isAdmin: true })
  t.ok(dup.ok && dup.value.replay, 'a duplicate callback for the extension changes nothing')

  const second = await w.scheduling.extend(s.session_id, 600, kiosk)
  if (!second.ok) return t.fail(second.message)
  await runFor(w, 601_000, 60_000)
  t.equal(w.scheduling.get(second.value.session.session_id)?.released, 'hold_expired', 'an unpaid extension expires')
  t.equal(w.scheduling.get(s.session_id)?.end_time, s.end_time + 1800, 'and the session keeps its end')
  w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: s.end_time + 1800, duration: 600 }, { origin: 'admin_portal', isAdmin: true })
  const blocked = await w.scheduling.extend(s.session_id, 600, kiosk)
  t.match(blocked.ok ? '' : blocked.message, /^bay 1 is taken by session/, 'no extension when the bay is not free after')
})

t.test('holds are durable: a restart finds the hold and expires it on time', async (t) => {
  const dir = t.testdir()
  const w = await buildWorld(t, { pricing: flat, dir })
  const s = await book(w, 0)
  await w.close()
  const w2 = await buildWorld(t, { pricing: flat, dir, clock: w.clock })
  t.equal(w2.scheduling.get(s.session_id)?.status, 'held')
  await runFor(w2, 600_000, 60_000)
  t.equal(w2.scheduling.get(s.session_id)?.released, 'hold_expired')
})
