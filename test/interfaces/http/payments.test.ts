/**
 * Prices and payments over HTTP (issue 12): the price table (manager/admin, audited, bad tables
 * refused), quotes on availability, kiosk holds, the counter, the terminal against a stand-in
 * gateway on a real socket (approve, decline, duplicate, unsigned, replayed, late after expiry).
 */
import t from 'tap'
import { auth, buildWorld, connectMachine, inMinutes, runFor, settle, signIn, type World } from './world.js'
import { startStandIn } from '../../helpers/terminal-stand-in.js'
import { TABLE } from '../../helpers/prices.js'

async function putPrices(w: World, table: object, headers = auth('admin')) {
  return w.app.inject({ method: 'PUT', url: '/api/prices', headers, payload: table })
}

async function kioskBook(w: World, bay: number, minutes = 60, startMin = 0) {
  const res = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('kiosk'), payload: { machine_id: bay, status: 'reserved', start_time: inMinutes(w, startMin), duration: minutes * 60 } })
  if (res.statusCode !== 201) throw new Error(`${res.statusCode} ${res.body}`)
  return res.json()
}

t.test('price table: manager/admin only, checked, durable, audited; availability and bookings carry the quote', async (t) => {
  const w = await buildWorld(t)
  t.equal((await putPrices(w, TABLE, auth('kiosk'))).statusCode, 403, 'a kiosk may not change prices')
  const staff = await signIn(w, 'sam', 'staff')
  t.equal((await putPrices(w, TABLE, staff)).statusCode, 403, 'nor counter staff')
  t.equal((await w.app.inject({ method: 'GET', url: '/api/prices', headers: staff })).statusCode, 403)
  const gap = await putPrices(w, { ...TABLE, bands: TABLE.bands.slice(1) })
  t.equal(gap.statusCode, 400)
  t.equal(gap.json().message, 'bands: mon 00:00 has no price for bays without a class; every bookable hour needs one', 'an unpriced bookable hour is refused')
  const negative = await putPrices(w, { ...TABLE, bands: [{ ...TABLE.bands[0]!, per_hour: -5 }, ...TABLE.bands.slice(1)] })
  t.equal(negative.statusCode, 400)
  t.match(negative.json().message, /^body\.bands\[0\]\.per_hour: must be >= 0/, 'a negative amount is refused, naming the field')
  const overlap = await putPrices(w, { ...TABLE, bands: [...TABLE.bands, { days: ['sat'], from: '10:00', to: '11:00', per_hour: 1 }] })
  t.match(overlap.json().message, /^bands\[3\]: overlaps bands\[0\]/)
  const unknownBay = await putPrices(w, { ...TABLE, bay_classes: { '99': 'covered' } })
  t.match(unknownBay.json().message, /^bay_classes\.99: bay 99 is not served/)
  t.equal(w.payments.prices.active(), false, 'nothing saved by the refusals')

  const manager = await signIn(w, 'mia', 'manager')
  const saved = await putPrices(w, TABLE, manager)
  t.equal(saved.statusCode, 200)
  t.equal(saved.json().updated_by, 'staff:mia')
  const got = await w.app.inject({ method: 'GET', url: '/api/prices', headers: auth('admin') })
  t.same(got.json().bands, TABLE.bands)
  const audit = await w.app.inject({ method: 'GET', url: '/api/audit?kind=prices.changed', headers: auth('admin') })
  const entries = audit.json().entries
  t.equal(entries.length, 1, 'one audit entry for the change')
  t.same([entries[0].actor, entries[0].before, entries[0].after.currency], ['staff:mia', null, 'EUR'])

  for (let id = 1; id <= 6; id++) await connectMachine(w, id)
  const avail = await w.app.inject({ method: 'GET', url: '/api/availability?bays=1&minutes=60&limit=3', headers: auth('kiosk') })
  const options = avail.json().options
  t.ok(options.length > 0)
  t.same(options[0].quote, { amount: 1200, currency: 'EUR' }, '10:00-11:00 at 12.00 an hour')
  const evening = await w.app.inject({ method: 'GET', url: `/api/quote?machine_id=5&machine_id=6&start_time=${Date.UTC(2026, 0, 10, 16, 30) / 1000}&minutes=60`, headers: auth('kiosk') })
  t.same(evening.json().quote, { amount: 1500 + 600 + 900, currency: 'EUR' }, 'covered bay 5 at 15.00, bay 6 half at 12.00 and half at 18.00')
  const s = await kioskBook(w, 2)
  t.same([s.status, s.price], ['held', { amount: 1200, currency: 'EUR' }], 'the session stores the price it was sold at')
})

t.test('counter: staff mark a held kiosk booking paid; it starts at once; a repeat records nothing; an expired hold is refused', async (t) => {
  const w = await buildWorld(t)
  t.equal((await putPrices(w, TABLE)).statusCode, 200)
  await connectMachine(w, 2)
  await connectMachine(w, 3)
  const s = await kioskBook(w, 2)
  await settle(w)
  t.equal(w.machines.get(2)?.desired?.status ?? 'idle', 'idle', 'held: the dispenser stays off')
  const kiosk = await w.app.inject({ method: 'POST', url: `/api/sessions/${s.session_id}/payment`, headers: auth('kiosk'), payload: { method: 'cash' } })
  t.equal(kiosk.statusCode, 403, 'a kiosk token cannot mark itself paid')
  const staff = await signIn(w, 'sam', 'staff')
  const bad = await w.app.inject({ method: 'POST', url: `/api/sessions/${s.session_id}/payment`, headers: staff, payload: { method: 'cash', amount: -1 } })
  t.equal(bad.statusCode, 400)
  const paid = await w.app.inject({ method: 'POST', url: `/api/sessions/${s.session_id}/payment`, headers: staff, payload: { method: 'card', reference: 'R-100' } })
  t.equal(paid.statusCode, 200, paid.body)
  t.same(paid.json().replay, false)
  await settle(w)
  t.equal(w.scheduling.get(s.session_id)?.status, 'active')
  t.equal(w.machines.get(2)?.desired?.status, 'active', 'only now the dispenser turns on')
  const again = await w.app.inject({ method: 'POST', url: `/api/sessions/${s.session_id}/payment`, headers: staff, payload: { method: 'card', reference: 'R-100' } })
  t.same([again.statusCode, again.json().replay], [200, true], 'idempotent')
  const takings = await w.app.inject({ method: 'GET', url: '/api/payments', headers: staff })
  t.same([takings.json().total, takings.json().count, takings.json().records[0].by], [1200, 1, 'staff:sam'], "today's takings")
  const audit = await w.app.inject({ method: 'GET', url: `/api/audit?session_id=${s.session_id}`, headers: auth('admin') })
  t.same(audit.json().entries.map((e: { kind: string }) => e.kind), ['payment.recorded', 'session.created'], 'the payment is audited')
  const csv = await w.app.inject({ method: 'GET', url: '/api/export/payments.csv', headers: staff })
  t.equal(csv.statusCode, 200, csv.body.slice(0, 300))
  t.match(csv.headers['content-type'], /^text\/csv/)
  const lines = csv.body.replace(/^\uFEFF/, '').trim().split('\r\n')
  t.equal(lines[0], 'time,session_id,bays,kind,provider,method,reference,amount,currency,by,payment_id', JSON.stringify(csv.body.slice(0, 400)))
  t.same(lines.slice(1).map((l) => l.split(',').slice(1, 10)), [[String(s.session_id), '2', 'payment', 'counter', 'card', 'R-100', '1200', 'EUR', 'staff:sam']], 'payments.csv: one record per payment, once')
  t.equal((await w.app.inject({ method: 'GET', url: '/api/export/payments.csv', headers: auth('kiosk') })).statusCode, 403)

  const late = await kioskBook(w, 3)
  await runFor(w, 601_000, 60_000)
  t.equal(w.scheduling.get(late.session_id)?.released, 'hold_expired')
  const refused = await w.app.inject({ method: 'POST', url: `/api/sessions/${late.session_id}/payment`, headers: staff, payload: { method: 'cash' } })
  t.equal(refused.statusCode, 409)
  t.match(refused.json().message, /hold of session \d+ expired at 10:1\d; nothing was charged/)
  t.equal(w.scheduling.get(late.session_id)?.payments, undefined, 'nothing marked paid')
})

t.test('terminal: request, signed callback approve / decline, duplicate, unsigned and replayed callbacks, late after expiry', async (t) => {
  const secret = 'terminal-secret-0123456789'
  let w!: World
  const standIn = await startStandIn(secret, () => w.clock.now() / 1000)
  t.teardown(() => standIn.close())
  w = await buildWorld(t, { env: { HUB_PAYMENT_URL: standIn.url, HUB_PAYMENT_SECRET: secret } })
  await w.app.listen({ host: '127.0.0.1', port: 0 })
  const address = w.app.server.address()
  standIn.hub = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  t.equal((await putPrices(w, TABLE)).statusCode, 200)
  for (const id of [1, 2, 3]) await connectMachine(w, id)

  const s = await kioskBook(w, 1)
  const asked = await w.app.inject({ method: 'POST', url: `/api/sessions/${s.session_id}/payment/terminal`, headers: auth('kiosk') })
  t.equal(asked.statusCode, 200, asked.body)
  const request = await standIn.nextRequest()
  t.same([request.amount, request.currency, request.session_id, asked.json().payment_request.status], [1200, 'EUR', s.session_id, 'pending'])
  t.equal(standIn.refused, 0, 'the hub signs its requests')
  const other = await w.app.inject({ method: 'POST', url: `/api/sessions/${s.session_id}/payment/terminal`, headers: auth('kiosk2') })
  t.equal(other.statusCode, 403, "another kiosk cannot pay for this kiosk's session")

  // Unsigned, wrongly signed, replayed (stale) callbacks: 401, nothing paid.
  const body = JSON.stringify({ payment_id: request.payment_id, status: 'approved', amount: 1200, currency: 'EUR' })
  const unsigned = await fetch(standIn.hub + '/api/payments/terminal/callback', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  t.equal(unsigned.status, 401)
  request.status = 'approved'
  const forged = await standIn.callback(request.payment_id, { secret: 'wrong-secret' })
  t.equal(forged.status, 401)
  const stale = await standIn.callback(request.payment_id, { timestampS: w.clock.now() / 1000 - 600 })
  t.equal(stale.status, 401)
  t.match(JSON.parse(stale.body).message, /refused as a possible replay/)
  t.equal(w.scheduling.get(s.session_id)?.status, 'held', 'nothing marked paid')

  const approved = await standIn.settle(request.payment_id, 'approved')
  t.equal(approved?.status, 200, approved?.body ?? '')
  t.same(JSON.parse(approved!.body).duplicate, false)
  await settle(w)
  t.equal(w.machines.get(1)?.desired?.status, 'active', 'paid at the terminal: the dispenser turns on')
  const dup = await standIn.callback(request.payment_id)
  t.same([dup.status, JSON.parse(dup.body).duplicate], [200, true], 'a duplicate callback changes nothing')
  t.equal(w.scheduling.get(s.session_id)?.payments?.length, 1, 'paid exactly once')
  await w.payments.terminal!.poll()
  t.equal(w.scheduling.get(s.session_id)?.payments?.length, 1, 'a poll after the callback changes nothing')

  // Declined: the bay stays off, the kiosk sees why, the hold expires.
  const d = await kioskBook(w, 2)
  await w.app.inject({ method: 'POST', url: `/api/sessions/${d.session_id}/payment/terminal`, headers: auth('kiosk') })
  const dr = await standIn.nextRequest()
  t.equal((await standIn.settle(dr.payment_id, 'declined'))?.status, 200)
  t.equal(w.scheduling.get(d.session_id)?.payment_request?.status, 'declined')
  await runFor(w, 601_000, 60_000)
  t.same([w.scheduling.get(d.session_id)?.status, w.scheduling.get(d.session_id)?.released], ['cancelled', 'hold_expired'])
  t.equal(w.machines.get(2)?.desired?.status ?? 'idle', 'idle', 'declined: never on')

  // Lost callback (timeout): the status poll marks it paid.
  const p = await kioskBook(w, 3)
  await w.app.inject({ method: 'POST', url: `/api/sessions/${p.session_id}/payment/terminal`, headers: auth('kiosk') })
  const pr = await standIn.nextRequest()
  await standIn.settle(pr.payment_id, 'approved', { callback: false })
  await w.payments.terminal!.poll()
  await settle(w)
  t.equal(w.scheduling.get(p.session_id)?.status, 'active', 'the poll found it approved')

  // Late callback after the hold expired: recorded with a refund request, the bays stay free.
  const l = await kioskBook(w, 2)
  await w.app.inject({ method: 'POST', url: `/api/sessions/${l.session_id}/payment/terminal`, headers: auth('kiosk') })
  const lr = await standIn.nextRequest()
  await runFor(w, 601_000, 60_000)
  const lateCb = await standIn.settle(lr.payment_id, 'approved')
  t.equal(lateCb?.status, 200)
  const stored = w.scheduling.get(l.session_id)!
  t.same([stored.status, stored.payments?.map((x) => x.kind)], ['cancelled', ['payment', 'refund_requested']], 'refund request recorded')
  const audit = await w.app.inject({ method: 'GET', url: `/api/audit?session_id=${l.session_id}`, headers: auth('admin') })
  t.ok(audit.json().entries.some((e: { kind: string }) => e.kind === 'payment.refund_requested'))

  // A gateway that does not take the request: a clear refusal, the kiosk can offer the counter.
  standIn.failRequests = 503
  const f = await kioskBook(w, 1, 30, 120)
  const failed = await w.app.inject({ method: 'POST', url: `/api/sessions/${f.session_id}/payment/terminal`, headers: auth('kiosk') })
  t.equal(failed.statusCode, 409)
  t.match(failed.json().message, /^terminal: the gateway answered HTTP 503; pay at the counter or try again/)
  t.equal(w.scheduling.get(f.session_id)?.payment_request?.status, 'failed')
})

t.test('kiosk extend over HTTP: held extension, paid, merged', async (t) => {
  const w = await buildWorld(t)
  t.equal((await putPrices(w, TABLE)).statusCode, 200)
  await connectMachine(w, 4)
  const s = await kioskBook(w, 4, 30)
  const staff = await signIn(w, 'sam', 'staff')
  await w.app.inject({ method: 'POST', url: `/api/sessions/${s.session_id}/payment`, headers: staff, payload: { method: 'cash' } })
  await settle(w)
  const ext = await w.app.inject({ method: 'POST', url: `/api/sessions/${s.session_id}/extend`, headers: auth('kiosk'), payload: { minutes: 30 } })
  t.equal(ext.statusCode, 201, ext.body)
  t.same([ext.json().status, ext.json().extends, ext.json().price.amount], ['held', s.session_id, 600])
  const patch = await w.app.inject({ method: 'PATCH', url: `/api/sessions/${s.session_id}`, headers: auth('kiosk'), payload: { duration: 7200 } })
  t.equal(patch.statusCode, 402, 'lengthening for free is refused')
  const paid = await w.app.inject({ method: 'POST', url: `/api/sessions/${ext.json().session_id}/payment`, headers: staff, payload: { method: 'cash' } })
  t.equal(paid.statusCode, 200)
  await settle(w)
  t.equal(w.scheduling.get(s.session_id)?.end_time, s.end_time + 1800)
  t.equal(w.machines.get(4)?.desired?.scheduled_until, s.end_time + 1800, 'the dispenser runs to the new end')
})
