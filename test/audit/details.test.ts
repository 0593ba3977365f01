/**
 * Booking details (issue 13): optional customer name, phone, e-mail and notes on a session, on both
 * doors, validated and capped; shown to staff and to the node that booked; named (never quoted) in
 * the audit log; not sent upstream unless HUB_UPLINK_PERSONAL_DATA=true.
 */
import t from 'tap'
import { bridgedPayload } from '../../src/link/bridge.js'
import { startFakeCloud } from '../helpers/cloud.js'
import { nextMessage, startTestHub, waitFor } from '../helpers/hub.js'
import { auth, buildWorld, inMinutes, signIn } from '../interfaces/http/world.js'

const DETAILS = { customer_name: 'Zoë O\'Brien, "Jr."', phone: '+44 20 7946 0958', email: 'zoe@example.com', notes: 'left-handed\nneeds a lesson bay' }

t.test('staff book with details, see them, change only them; the log names the fields, never the values', async (t) => {
  const w = await buildWorld(t)
  const sam = await signIn(w, 'sam', 'staff')
  const booked = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: sam, payload: { machine_id: 2, status: 'reserved', start_time: inMinutes(w, 60), duration: 3600, details: DETAILS } })
  t.equal(booked.statusCode, 201)
  const id = booked.json().session_id
  t.same(booked.json().details, DETAILS)
  const vic = await signIn(w, 'vic', 'viewer')
  t.same((await w.app.inject({ url: `/api/sessions/${id}`, headers: vic })).json().details, DETAILS, 'a viewer (staff) sees them')
  t.same((await w.app.inject({ url: '/api/sessions?date=2026-01-10', headers: sam })).json()[0].details, DETAILS, 'in the list too')
  t.equal((await w.app.inject({ url: `/api/sessions/${id}`, headers: auth('kiosk') })).statusCode, 403, 'a kiosk sees no other node\'s session')

  const moved = await w.app.inject({ method: 'PATCH', url: `/api/sessions/${id}`, headers: sam, payload: { machine_id: 3 } })
  t.same(moved.json().details, DETAILS, 'a change without details keeps them')
  const changed = await w.app.inject({ method: 'PATCH', url: `/api/sessions/${id}`, headers: sam, payload: { details: { customer_name: '  Zoë  ', notes: '' } } })
  t.equal(changed.statusCode, 200)
  t.same(changed.json().details, { customer_name: 'Zoë' }, 'trimmed, empty fields dropped, the rest replaced')
  t.same((await w.app.inject({ method: 'PATCH', url: `/api/sessions/${id}`, headers: sam, payload: { details: { customer_name: 'Zoë' } } })).json().details, { customer_name: 'Zoë' }, 'the same again')
  const cleared = await w.app.inject({ method: 'PATCH', url: `/api/sessions/${id}`, headers: sam, payload: { details: {} } })
  t.notOk('details' in cleared.json(), '{} clears them')

  const log = (await w.app.inject({ url: `/api/audit?session_id=${id}`, headers: sam })).json().entries
  t.same(log.map((e: { kind: string }) => e.kind), ['session.details', 'session.details', 'session.moved', 'session.created'], 'one entry per change; the repeat made none')
  t.match(log[3], { actor: 'staff:sam', after: { details: ['customer_name', 'phone', 'email', 'notes'] } })
  t.match(log[1], { before: { details: ['customer_name', 'phone', 'email', 'notes'] }, after: { details: ['customer_name'] } })
  t.notOk('details' in log[0].after, 'cleared')
  const text = JSON.stringify(log)
  for (const value of ['Zoë', '7946', 'zoe@example.com', 'left-handed']) t.notOk(text.includes(value), `the log holds no "${value}"`)
})

t.test('bad details are refused naming the field, and change nothing', async (t) => {
  const w = await buildWorld(t)
  const sam = await signIn(w, 'sam', 'staff')
  const start = inMinutes(w, 60)
  const cases: Array<[object, RegExp]> = [
    [{ customer_name: 'x'.repeat(101) }, /details\/customer_name|customer_name/],
    [{ customer_name: 'bell\u0007' }, /customer_name/],
    [{ phone: 'call me' }, /phone/],
    [{ email: 'not an address' }, /email/],
    [{ notes: 'n'.repeat(1001) }, /notes/],
    [{ notes: 'esc\u001b[31m' }, /notes/],
    [{ card_number: '4111111111111111' }, /card_number|additional/],
    [{ customer_name: 42 }, /customer_name/],
  ]
  for (const [details, field] of cases) {
    const res = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: sam, payload: { machine_id: 4, status: 'reserved', start_time: start, duration: 1800, details } })
    t.equal(res.statusCode, 400, `refused: ${JSON.stringify(details).slice(0, 60)}`)
    t.match(res.json().message, field)
  }
  t.same(w.scheduling.list(), [], 'nothing was booked')
})

t.test('MQTT door: a kiosk books with details and gets them back; bad details are refused naming the field', async (t) => {
  const h = await startTestHub(t)
  const kiosk = await h.node('kiosk_interface')
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  const start = h.clock.now() / 1000 + 3600
  const reply = nextMessage<{ success: boolean; session_id: number }>(kiosk, 'internal/kiosk', (m) => 'success' in m)
  kiosk.publish('internal/manager', JSON.stringify({ machine_id: 5, status: 'reserved', start_time: start, duration: 1800, origin_node: 'kiosk_interface', details: { customer_name: 'Ana', phone: '0612345678' } }), { qos: 1 })
  const ok = await reply
  t.equal(ok.success, true)
  t.same(h.hub.scheduling.get(ok.session_id)?.details, { customer_name: 'Ana', phone: '0612345678' })
  const own = await h.api('kiosk_interface', 'GET', `/api/sessions/${ok.session_id}`)
  t.same(own.body.details, { customer_name: 'Ana', phone: '0612345678' }, 'the booking node sees its own')
  t.equal((await h.api('reservation_interface', 'GET', `/api/sessions/${ok.session_id}`)).status, 403, 'another node does not')

  const refusal = nextMessage<{ success: boolean; message: string }>(kiosk, 'internal/kiosk', (m) => m.success === false)
  kiosk.publish('internal/manager', JSON.stringify({ machine_id: 6, status: 'reserved', start_time: start, duration: 1800, origin_node: 'kiosk_interface', details: { email: 'x'.repeat(300) } }), { qos: 1 })
  t.match((await refusal).message, /email/)
})

t.test('uplink: details stay at the venue unless HUB_UPLINK_PERSONAL_DATA=true', async (t) => {
  for (const personal of [false, true]) await t.test(`HUB_UPLINK_PERSONAL_DATA=${personal}`, async (t) => {
    const cloud = await startFakeCloud()
    t.teardown(() => cloud.close())
    const h = await startTestHub(t, { HUB_UPLINK_URL: `${cloud.url}/events`, ...(personal && { HUB_UPLINK_PERSONAL_DATA: 'true' }) })
    const start = h.clock.now() / 1000 + 3600
    const booked = await h.api('admin', 'POST', '/api/sessions', { machine_id: 7, status: 'reserved', start_time: start, duration: 1800, details: DETAILS })
    t.equal(booked.status, 201)
    await waitFor(() => cloud.events.some((e) => e.type === 'session.changed'), 10_000, 'the booking reached the cloud')
    const event = cloud.events.find((e) => e.type === 'session.changed')!
    const session = (event.data as { session: Record<string, unknown> }).session
    t.equal(session.session_id, booked.body.session_id)
    if (personal) t.same(session.details, DETAILS, 'sent when the setting allows it')
    else {
      t.notOk('details' in session, 'no details in the uplink event')
      t.notOk(JSON.stringify(cloud.events).includes('7946'), 'nor anywhere in what was sent')
    }
  })
})

t.test('bridge: bridged Session messages lose their details unless the setting allows them', async (t) => {
  const message = Buffer.from(JSON.stringify({ session_id: 4, machine_id: [1], status: 'reserved', details: DETAILS, change: 'created' }))
  t.same(JSON.parse(bridgedPayload(message, false)), { session_id: 4, machine_id: [1], status: 'reserved', change: 'created' })
  t.same(JSON.parse(bridgedPayload(message, true)).details, DETAILS)
  const event = Buffer.from(JSON.stringify({ change: 'updated', session: { session_id: 4, details: DETAILS }, previous: { session_id: 4, details: DETAILS } }))
  t.same(JSON.parse(bridgedPayload(event, false)), { change: 'updated', session: { session_id: 4 }, previous: { session_id: 4 } })
  t.equal(bridgedPayload(Buffer.from('not json "details"'), false), 'not json "details"', 'foreign payloads pass as they are')
  const plain = '{"machine_id":3,"status":"idle"}'
  t.equal(bridgedPayload(Buffer.from(plain), false), plain, 'untouched when there is nothing to remove')
})
