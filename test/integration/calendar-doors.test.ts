/**
 * The venue calendar through every door of the whole hub (issue 14): the real Aedes broker with
 * real MQTT clients (Session and Schedule on internal/manager), HTTP over a real socket, and the
 * cloud reservation pull from a real HTTP server. One rule: each door gets the same refusal.
 */
import t from 'tap'
import type mqtt from 'mqtt'
import { startFakeCloud } from '../helpers/cloud.js'
import { nextMessage, startTestHub, waitFor } from '../helpers/hub.js'

// The hub's FakeClock starts Thursday 2026-01-01 10:00 UTC; Tuesday is 2026-01-06.
const TUE = Date.UTC(2026, 0, 6) / 1000
const at = (hm: string) => TUE + Number(hm.slice(0, 2)) * 3600 + Number(hm.slice(3)) * 60
const hours = { mon: '07:00-22:00', tue: '07:00-22:00', wed: '07:00-22:00', thu: '07:00-22:00', fri: '07:00-22:00', sat: '08:00-20:00', sun: '08:00-20:00' }
const calendar = {
  hours,
  special_days: [{ date: '2026-01-07', hours: 'closed', reason: 'storm' }],
  windows: [
    { bays: '1-20', days: ['tue'], from: '07:00', to: '09:00', kind: 'closed', reason: 'mowing' },
    { bays: '1-5', days: ['tue'], from: '18:00', to: '21:00', kind: 'walk_in_only', reason: 'junior league' },
  ],
}
const MOWING = /^start_time: bay \d+ is closed for mowing Tue 2026-01-06 07:00-09:00 \(calendar window 1: bays 1-20, tue 07:00-09:00\)$/
const LEAGUE = /^start_time: bay 2 is walk-in only \(junior league\) Tue 2026-01-06 18:00-21:00 \(calendar window 2: bays 1-5, tue 18:00-21:00\): book at the kiosk or the desk$/

t.test('MQTT, HTTP and the cloud pull obey the calendar; the Schedule reply shades it', async (t) => {
  const cloud = await startFakeCloud()
  t.teardown(() => cloud.close())
  const h = await startTestHub(t, { HUB_CLOUD_URL: cloud.url, HUB_SITE_ID: 'venue1' })
  const saved = await h.api('admin', 'PUT', '/api/calendar', calendar)
  t.equal(saved.status, 200, JSON.stringify(saved.body))

  const kiosk = await h.node('kiosk_interface')
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  const reservation = await h.node('reservation_interface')
  await reservation.subscribeAsync('internal/reservation', { qos: 1 })
  let exchange = 500
  const overMqtt = async (client: mqtt.MqttClient, topic: string, origin: string, body: object) => {
    const id = ++exchange
    const reply = nextMessage(client, topic, (m) => m.exchange_id === id && 'success' in m)
    await client.publishAsync('internal/manager', JSON.stringify({ status: 'reserved', duration: 1800, ...body, origin_node: origin, exchange_id: id }), { qos: 1 })
    return reply
  }
  const viaKiosk = (body: object) => overMqtt(kiosk, 'internal/kiosk', 'kiosk_interface', body)
  const viaReservation = (body: object) => overMqtt(reservation, 'internal/reservation', 'reservation_interface', body)
  const http = (as: 'kiosk_interface' | 'reservation_interface', body: object) => h.api(as, 'POST', '/api/sessions', { status: 'reserved', duration: 1800, ...body })

  // Closed: nobody, on either door.
  t.match(await viaKiosk({ machine_id: 3, start_time: at('08:00') }), { success: false, message: MOWING })
  t.match(await viaReservation({ machine_id: 3, start_time: at('08:00') }), { success: false, message: MOWING })
  t.match(await http('kiosk_interface', { machine_id: 3, start_time: at('08:00') }), { status: 409, body: { error: 'BAY_CLOSED', message: MOWING } })
  // Walk-in only: the kiosk yes, reservations no (with the reason).
  t.match(await viaReservation({ machine_id: 2, start_time: at('18:00') }), { success: false, message: LEAGUE })
  t.match(await http('reservation_interface', { machine_id: 2, start_time: at('18:00') }), { status: 409, body: { error: 'WALK_IN_ONLY', message: LEAGUE } })
  t.match(await viaKiosk({ machine_id: 2, start_time: at('18:00') }), { success: true, machine_id: [2] })
  t.match(await http('kiosk_interface', { machine_id: 3, start_time: at('18:00') }), { status: 201 })
  t.match(await viaReservation({ machine_id: 8, start_time: at('18:00') }), { success: true }, 'other bays stay bookable')
  // A special day closes the whole day.
  t.match(await viaReservation({ machine_id: 8, start_time: at('12:00') + 86_400 }), { success: false, message: /^start_time: the range is closed on Wed 2026-01-07 \(storm\)$/ })

  // The cloud: a reservation for Tuesday 08:00 comes back refused naming the window; one at 10:00 is confirmed.
  cloud.reservations.push(
    { external_id: 'c-1', bays: [12], start: new Date(at('08:00') * 1000).toISOString(), duration_minutes: 60, status: 'booked' },
    { external_id: 'c-2', bays: [4], start: at('18:30'), duration_minutes: 30, status: 'booked' },
    { external_id: 'c-3', bays: [12], start: at('10:00'), duration_minutes: 60, status: 'booked' },
  )
  await h.hub.link.reservations.pullNow()
  await waitFor(() => cloud.outcomes.length === 3, 5000, 'three outcomes reported')
  t.match(cloud.outcomes[0], { external_id: 'c-1', status: 'refused', reason: MOWING })
  t.match(cloud.outcomes[1], { external_id: 'c-2', status: 'refused', reason: /bay 4 is walk-in only \(junior league\)/ })
  t.match(cloud.outcomes[2], { external_id: 'c-3', status: 'confirmed' })

  // The Schedule reply over MQTT: closed and walk-in cells where free, taken cells as before.
  const request = nextMessage<{ request_id?: number; date?: string; schedule: Array<[string, ...Array<{ machine_id: number; status: string; reason?: string }>]> }>(kiosk, 'internal/kiosk', (m) => m.request_id === 77)
  await kiosk.publishAsync('internal/manager', JSON.stringify({ request_type: 'schedule', request_id: 77, date: '2026-01-06', origin_node: 'kiosk_interface' }), { qos: 1 })
  const grid = await request
  const row = (hm: string) => grid.schedule.find((r) => r[0] === hm)!
  t.same(row('08:00')[12], { machine_id: 12, status: 'closed', reason: 'closed: mowing' })
  t.same(row('18:00')[2], { machine_id: 2, status: 'reserved', session_id: (row('18:00')[2] as { session_id?: number }).session_id })
  t.same(row('18:00')[1], { machine_id: 1, status: 'walk_in_only', reason: 'walk-in only: junior league' })
  t.same(row('18:00')[6], { machine_id: 6, status: 'available' })
  t.same(row('10:00')[1], { machine_id: 1, status: 'available' })
  // Issue 17: the compact reply on request, sent through the real broker as the cached bytes.
  const compact = nextMessage<Record<string, unknown>>(kiosk, 'internal/kiosk', (m) => m.request_id === 78)
  await kiosk.publishAsync('internal/manager', JSON.stringify({ request_type: 'schedule', request_id: 78, date: '2026-01-06', format: 'runs', origin_node: 'kiosk_interface' }), { qos: 1 })
  const runs = await compact
  t.match(runs, { format: 'runs', request_id: 78, origin_node: 'schedule_manager', destination_node: 'kiosk_interface' })
  const { expandRuns } = await import('../../src/scheduling/grid-runs.js')
  const strip = ({ request_id: _r, timestamp: _t, origin_node: _o, destination_node: _d, ...body }: Record<string, unknown>) => body
  t.same(expandRuns(strip(runs) as never), strip(grid as never), 'the runs expand to the rows the same door sends')

  // Kiosk availability on Tuesday morning offers nothing inside the mowing.
  const avail = await h.api('kiosk_interface', 'GET', `/api/availability?bays=2&minutes=60&near=${at('07:30')}&limit=50`)
  t.equal(avail.status, 200)
  t.ok(avail.body.options.length > 0)
  for (const o of avail.body.options as Array<{ start_time: number; end_time: number }>) t.ok(o.start_time >= at('09:00') && o.end_time <= at('22:00'), 'outside the mowing, inside the hours')
})

t.test('a confirmed calendar change flags the sessions it affects, like a bay going to maintenance', async (t) => {
  const h = await startTestHub(t)
  const booked = await h.api('reservation_interface', 'POST', '/api/sessions', { machine_id: 6, status: 'reserved', start_time: at('08:00'), duration: 1800 })
  t.equal(booked.status, 201)
  const id = booked.body.session_id as number
  const refused = await h.api('admin', 'PUT', '/api/calendar', calendar)
  t.match(refused, { status: 409, body: { error: 'CALENDAR_AFFECTS_SESSIONS', affected: [{ session_id: id, machine_id: [6] }] } })
  t.equal(h.hub.affected.get(id)?.affected ?? false, false, 'a refused change flags nothing')
  const confirmed = await h.api('admin', 'PUT', '/api/calendar', { ...calendar, confirm: true, note: 'mowing moved to Tuesdays' })
  t.match(confirmed, { status: 200, body: { affected: [{ session_id: id }] } })
  await waitFor(() => h.hub.affected.get(id)?.affected === true, 5000, 'session flagged')
  t.match(h.hub.affected.get(id), { owner: 'reservation_interface', bays: [{ machine_id: 6, reason: 'calendar', message: /bay 6 is closed for mowing/ }] })
  const audit = await h.api('admin', 'GET', '/api/audit?kind=calendar.changed')
  t.match(audit.body.entries, [{ actor: 'token:admin_portal', reason: 'mowing moved to Tuesdays', machine_id: [6], after: { affected_sessions: [id] } }])
})
