/**
 * Bookings on a bay that stops working (issue 11), end to end on the whole hub: the real Aedes
 * broker, real MQTT dispensers (the simulator's mqtt.js clients), the WebSocket live feed and
 * HTTP over a real socket; the hub's time is a FakeClock (grace, accrual).
 *
 * 1. A running session's bay goes offline: past the grace an alert names the session, the
 *    owner's topic and the live feed get `session.affected`, a credit accrues. Staff move it:
 *    the new bay turns on within a second, the old one stays off, the credit stops accruing.
 * 2. Maintenance on a bay with an upcoming booking flags it; a move clears it; no credit.
 */
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { nextMessage, startTestHub, waitFor } from '../helpers/hub.js'
import type { AffectedSession, Credit } from '../../src/protocol/affected.js'

interface FeedMessage {
  topic: string
  payload: any
}

function openFeed(t: Test, port: number, token: string) {
  const messages: FeedMessage[] = []
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/live?token=${token}`)
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as FeedMessage))
  t.teardown(() => ws.close())
  return {
    messages,
    opened: new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    }),
    async next(match: (m: FeedMessage) => boolean, what: string): Promise<FeedMessage> {
      await waitFor(() => messages.some(match), 10_000, what)
      return messages.find(match)!
    },
  }
}

t.test('running session: bay offline -> alert, session.affected, credit; move -> new bay on within 1 s, old off, credit stops', async (t) => {
  const h = await startTestHub(t, { HUB_MACHINES: '1-8' })
  const sim = await h.simulate([1, 2, 3, 4, 5, 6, 7, 8])
  await waitFor(() => h.hub.machines.stats().online === 8, 10_000, 'dispensers online')
  const feed = openFeed(t, h.hub.ports.http, h.hub.adminToken)
  await feed.opened
  const kiosk = await h.node('kiosk_interface')
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })

  const now = h.clock.now() / 1000
  const booked = await h.api('kiosk_interface', 'POST', '/api/sessions', { machine_id: 3, status: 'reserved', start_time: now, duration: 3600 })
  t.equal(booked.status, 201)
  const id = booked.body.session_id as number
  await waitFor(() => sim.get(3)!.state.output, 5_000, 'bay 3 dispenses')

  // The dispenser drops off the network (socket closed, no DISCONNECT).
  const affectedOnKiosk = nextMessage<AffectedSession & { event: string }>(kiosk, 'internal/kiosk', (m) => m.event === 'session.affected' && m.session_id === id)
  await sim.get(3)!.stop()
  await waitFor(() => h.hub.machines.get(3)?.online === false, 10_000, 'bay 3 offline')
  await h.clock.advance(30_000)
  t.same(h.hub.affected.list(), [], 'within the grace nothing is flagged')
  await h.clock.advance(31_000)
  await h.hub.affected.check()

  const flagged = h.hub.affected.get(id)
  t.match(flagged, { affected: true, running: true, machine_id: [3], bays: [{ machine_id: 3, reason: 'offline' }] }, 'durable flag on the session')
  const alert = h.hub.machines.alerts().find((a) => a.kind === 'session_affected' && a.machine_id === 3 && a.cleared_at === null)
  t.ok(alert, 'an alert on bay 3')
  t.match(alert?.message, new RegExp(`bay 3 is offline since .*session ${id} \\(\\d\\d:\\d\\d-\\d\\d:\\d\\d, running\\)`), 'the alert names the session')
  const mqttEvent = await affectedOnKiosk
  t.match(mqttEvent, { session_id: id, affected: true, owner: 'kiosk_interface' }, "the owner's topic hears of it")
  const wsEvent = await feed.next((m) => m.topic === 'session.affected' && m.payload.affected.session_id === id, 'session.affected on the live feed')
  t.match(wsEvent.payload.affected, { affected: true, running: true })
  await feed.next((m) => m.topic === 'alert.raised' && m.payload.alert.kind === 'session_affected', 'alert on the live feed')

  const [credit] = (await h.api('admin', 'GET', `/api/credits?session_id=${id}`)).body as Credit[]
  t.match(credit, { session_id: id, machine_id: 3, reason: 'offline', accruing: true, redeemed: false }, 'a credit accrues')
  await h.clock.advance(120_000)
  const accrued = h.hub.credits.get(credit!.credit_id)!
  t.ok(accrued.lost_seconds >= 120 && accrued.lost_seconds <= 122, `lost seconds accrue (${accrued.lost_seconds})`)
  t.equal((await h.api('admin', 'GET', `/api/sessions/${id}`)).body.lost_seconds, accrued.lost_seconds, 'lost_seconds on the session')

  // The nearest free bay that can dispense, same row, same times.
  const alternatives = await h.api('admin', 'GET', `/api/sessions/${id}/alternatives`)
  t.equal(alternatives.status, 200)
  t.same(alternatives.body.alternatives[0].machine_id, [2], 'the nearest bay first (2 and 4 are as near; the lower first)')
  t.ok(alternatives.body.alternatives.every((a: { machine_id: number[] }) => !a.machine_id.includes(3)), 'never the broken bay')

  const before = Date.now()
  const on2 = new Promise<number>((resolve) => sim.get(2)!.on('changed', (s: { output: boolean }) => s.output && resolve(Date.now())))
  const moved = await h.api('admin', 'POST', `/api/sessions/${id}/move`, {})
  t.equal(moved.status, 200)
  t.same(moved.body.from, [3])
  t.same(moved.body.session.machine_id, [2])
  const onAt = await on2
  t.ok(onAt - before < 1000, `new bay on ${onAt - before} ms after the move`)
  t.equal(sim.get(2)!.state.session_id, id, 'bay 2 runs the moved session')

  await h.hub.affected.check()
  const issued = h.hub.credits.get(credit!.credit_id)!
  t.equal(issued.accruing, false, 'the credit stopped accruing')
  t.ok(issued.issued_at !== null && issued.minutes === Math.ceil(issued.lost_seconds / 60))
  await h.clock.advance(60_000)
  t.equal(h.hub.credits.get(credit!.credit_id)!.lost_seconds, issued.lost_seconds, 'nothing more accrues after the move')
  t.match(h.hub.affected.get(id), { affected: false, cleared_reason: 'moved' }, 'the flag is cleared by the move')
  await feed.next((m) => m.topic === 'session.affected' && m.payload.affected.session_id === id && m.payload.affected.affected === false, 'cleared on the feed')
  await waitFor(() => !h.hub.machines.alerts().some((a) => a.kind === 'session_affected' && a.cleared_at === null), 5_000, 'alert cleared')
  const audit = await h.hub.audit.query({ kind: 'credit.issued' })
  t.equal(audit.entries.length, 1, 'the issued credit is in the audit log')

  // The old bay comes back: it is told to stay off.
  const back = await h.simulate([3])
  await waitFor(() => h.hub.machines.get(3)?.online === true, 10_000, 'bay 3 back')
  await waitFor(() => h.hub.machines.get(3)?.desired === null || h.hub.machines.get(3)?.desired?.status === 'idle', 5_000, 'bay 3 desired idle')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(back.get(3)!.state.output, false, 'the old bay stays off')
  t.equal(sim.get(2)!.state.output, true, 'the new bay still runs')

  // Redeem: staff by id once; the code is then spent.
  const redeemed = await h.api('admin', 'POST', `/api/credits/${credit!.credit_id}/redeem`, {})
  t.equal(redeemed.status, 200)
  t.equal(redeemed.body.redeemed, true)
  const again = await h.api('kiosk_interface', 'POST', '/api/credits/redeem', { code: credit!.code })
  t.equal(again.status, 409)
  t.match(again.body, { error: 'CREDIT_REDEEMED', message: new RegExp(`^credit ${credit!.credit_id} was redeemed at .* by token:admin_portal`) })
  t.equal((await h.hub.audit.query({ kind: 'credit.redeemed' })).entries.length, 1, 'redeem audited')
})

t.test('maintenance on a bay with an upcoming booking flags it; a move clears it; no credit', async (t) => {
  const h = await startTestHub(t, { HUB_MACHINES: '1-8' })
  await h.simulate([1, 2, 3, 4, 5, 6, 7, 8])
  await waitFor(() => h.hub.machines.stats().online === 8, 10_000, 'dispensers online')
  const feed = openFeed(t, h.hub.ports.http, h.hub.adminToken)
  await feed.opened
  const start = h.clock.now() / 1000 + 2 * 3600
  const booked = await h.api('reservation_interface', 'POST', '/api/sessions', { machine_id: 5, status: 'reserved', start_time: start, duration: 3600 })
  t.equal(booked.status, 201)
  const id = booked.body.session_id as number
  // Bay 4 is taken at that time: the nearest free one is 6.
  t.equal((await h.api('admin', 'POST', '/api/sessions', { machine_id: 4, status: 'reserved', start_time: start, duration: 3600 })).status, 201)

  const refused = await h.api('admin', 'POST', '/api/machines/5/override', { status: 'maintenance' })
  t.equal(refused.status, 409, 'maintenance over a booking needs confirmation')
  t.match(refused.body.message, new RegExp(`session ${id}`))
  const done = await h.api('admin', 'POST', '/api/machines/5/override', { status: 'maintenance', confirm: true, reason: 'jammed feeder' })
  t.equal(done.status, 200)
  await h.hub.affected.check()
  t.match(h.hub.affected.get(id), { affected: true, running: false, bays: [{ machine_id: 5, reason: 'maintenance' }] })
  await feed.next((m) => m.topic === 'session.affected' && m.payload.affected.session_id === id && m.payload.affected.affected, 'flagged on the feed')
  t.ok(h.hub.machines.alerts().some((a) => a.kind === 'session_affected' && a.machine_id === 5 && a.message.includes(`session ${id}`)), 'alert names it')
  t.same(h.hub.credits.list({ session_id: id }), [], 'an upcoming session loses nothing')
  t.same((await h.api('admin', 'GET', '/api/affected')).body.map((a: AffectedSession) => a.session_id), [id], 'GET /api/affected lists it')

  const alternatives = await h.api('admin', 'GET', `/api/sessions/${id}/alternatives`)
  t.same(alternatives.body.alternatives[0].machine_id, [6], 'bay 4 is booked, so 6 is nearest')
  // A kiosk may not move; a taken target is refused naming the session.
  t.equal((await h.api('kiosk_interface', 'POST', `/api/sessions/${id}/move`, {})).status, 403)
  const taken = await h.api('admin', 'POST', `/api/sessions/${id}/move`, { machine_id: 4 })
  t.equal(taken.status, 409)
  t.match(taken.body, { error: 'SESSION_CONFLICT', message: /^bay 4 is taken by session \d+/ })
  const broken = await h.api('admin', 'POST', `/api/sessions/${id}/move`, { machine_id: 5 })
  t.match(broken, { status: 400, body: { error: 'SESSION_INVALID', message: /already on bay 5/ } })
  const moved = await h.api('admin', 'POST', `/api/sessions/${id}/move`, { machine_id: 6, reason: 'bay 5 jammed' })
  t.equal(moved.status, 200)
  t.same(moved.body.session.machine_id, [6])
  await h.hub.affected.check()
  t.match(h.hub.affected.get(id), { affected: false, cleared_reason: 'moved' })
  t.same((await h.api('admin', 'GET', '/api/affected')).body, [], 'nothing flagged any more')
  const audit = await h.hub.audit.query({ kind: 'session.moved', session_id: id })
  t.match(audit.entries[0], { reason: 'bay 5 jammed', before: { machine_id: [5] }, after: { machine_id: [6] } }, 'the move is audited with its reason')
})
