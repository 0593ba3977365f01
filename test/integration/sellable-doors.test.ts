/**
 * Sell only what can dispense (issue 11), through both doors of the whole hub: the real Aedes
 * broker with real MQTT clients, and HTTP over a real socket. Every refusal of the rule table
 * is asked over internal/manager and over POST /api/sessions and must name bay and reason;
 * refusals change nothing; availability never offers an unsellable bay.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { nextMessage, startTestHub, waitFor } from '../helpers/hub.js'

const DAY = Date.UTC(2026, 0, 1) / 1000
const at = (hhmm: string) => DAY + Number(hhmm.slice(0, 2)) * 3600 + Number(hhmm.slice(3)) * 60

t.test('rule table over MQTT and HTTP: unhealthy bays, opening hours, force, start_time', async (t) => {
  const h = await startTestHub(t, { HUB_OPENING_HOURS: '08:00-22:00' })
  await h.simulate([1, 2, 4, 5, 6, 8])
  // Bay 3 is a dispenser that says it is broken.
  const m3 = await mqtt.connectAsync(h.url, { clientId: 'machine_3', username: 'machine_3', password: 'secret-3', keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => m3.endAsync(true))
  await m3.publishAsync('external/handler', JSON.stringify({ machine_id: 3, status: 'error', ball_level: 'full', origin_node: 'machine_003' }), { qos: 1 })
  await waitFor(() => h.hub.machines.list().filter((m) => m.online).length === 7, 10_000, 'dispensers online')
  await waitFor(() => h.hub.machines.get(3)?.status === 'error', 10_000, 'bay 3 in error')

  t.equal((await h.api('admin', 'POST', '/api/machines/2/override', { status: 'maintenance', scheduled_until: at('18:00') })).status, 200)
  t.equal((await h.api('admin', 'POST', '/api/machines/5/override', { status: 'idle', scheduled_until: at('11:00') })).status, 200)
  // Bays 7 and 9-20 never connected: once the grace (60 s) is over they are offline, not sellable.
  await h.clock.advance(61_000)

  const kiosk = await h.node('kiosk_interface')
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  const admin = await h.node('admin_portal')
  await admin.subscribeAsync('internal/admin', { qos: 1 })
  let exchange = 100
  const overMqtt = async (client: mqtt.MqttClient, replyTopic: string, origin: string, body: object) => {
    const id = ++exchange
    const reply = nextMessage(client, replyTopic, (m) => m.exchange_id === id && 'success' in m)
    await client.publishAsync('internal/manager', JSON.stringify({ ...body, origin_node: origin, exchange_id: id }), { qos: 1 })
    return reply
  }

  type Who = 'kiosk_interface' | 'reservation_interface' | 'admin'
  const cases: Array<[string, Who, object, number, RegExp | null]> = [
    ['admin maintenance names the holder', 'kiosk_interface', { machine_id: 2 }, 409, /^bay 2 is in maintenance until 18:00 \(held by an admin override \(admin_portal\)\)$/],
    ['error', 'kiosk_interface', { machine_id: 3 }, 409, /^bay 3 is in error/],
    ['admin stop', 'reservation_interface', { machine_id: 5 }, 409, /^bay 5 is held by an admin override \(stopped by admin_portal\) until 11:00$/],
    ['offline past the grace', 'kiosk_interface', { machine_id: 7 }, 409, /^bay 7 is offline since 10:00 \(never connected\)$/],
    ['group with an unhealthy bay', 'kiosk_interface', { machine_id: [6, 7] }, 409, /^bay 7 is offline/],
    ['before opening', 'kiosk_interface', { machine_id: 4, start_time: at('07:00') + 86_400 }, 409, /^start_time: 07:00 is outside opening hours 08:00-22:00$/],
    ['past close', 'reservation_interface', { machine_id: 4, start_time: at('21:30') }, 409, /^duration: the session would run past closing time 22:00 \(it would end 22:30\)$/],
    ['kiosk may not force', 'kiosk_interface', { machine_id: 7, force: true }, 403, /^force: only an admin may book a bay that is not sellable$/],
    ['start_time missing', 'kiosk_interface', { machine_id: 4, start_time: undefined }, 400, /^start_time: is required for a new session$/],
    ['admin is told why', 'admin', { machine_id: 7 }, 409, /^bay 7 is offline/],
  ]
  const base = { status: 'reserved', start_time: at('10:30'), duration: 3600 }
  for (const [name, who, body, status, message] of cases) {
    const payload = JSON.parse(JSON.stringify({ ...base, ...body })) as object
    const http = await h.api(who, 'POST', '/api/sessions', payload)
    t.equal(http.status, status, `HTTP ${name}: ${status}`)
    t.match(http.body?.message, message!, `HTTP ${name}`)
    const mqttWho = who === 'admin' ? [admin, 'internal/admin', 'admin_portal'] as const : who === 'kiosk_interface' ? [kiosk, 'internal/kiosk', 'kiosk_interface'] as const : null
    if (!mqttWho) continue
    const reply = await overMqtt(mqttWho[0], mqttWho[1], mqttWho[2], payload)
    t.equal(reply.success, false, `MQTT ${name}: refused`)
    t.match(String(reply.message), message!, `MQTT ${name}`)
  }
  t.same(h.hub.scheduling.list(), [], 'no refusal stored anything')

  // Admin may force; kiosk books a healthy bay on both doors.
  const forced = await h.api('admin', 'POST', '/api/sessions', { ...base, machine_id: 7, force: true })
  t.equal(forced.status, 201, 'admin force on an offline bay')
  const forcedMqtt = await overMqtt(admin, 'internal/admin', 'admin_portal', { ...base, machine_id: 9, force: true })
  t.match(forcedMqtt, { success: true, machine_id: [9] })
  t.equal((await h.api('kiosk_interface', 'POST', '/api/sessions', { ...base, machine_id: 4 })).status, 201)
  t.match(await overMqtt(kiosk, 'internal/kiosk', 'kiosk_interface', { ...base, machine_id: 1 }), { success: true, machine_id: [1] })

  // Availability offers only sellable bays (1, 4, 6, 8 are healthy; 1 and 4 are now booked at 10:30).
  const avail = await h.api('kiosk_interface', 'GET', `/api/availability?bays=1&minutes=60&near=${at('10:30')}&limit=50`)
  t.equal(avail.status, 200)
  const offered = new Set((avail.body.options as Array<{ machine_id: number[] }>).flatMap((o) => o.machine_id))
  t.ok(offered.has(6) && offered.has(8), 'healthy free bays are offered')
  t.same([...offered].sort((a, b) => a - b), [1, 2, 4, 5, 6, 8].filter((b) => offered.has(b)), 'only bays that can dispense (2 and 5 once their overrides end)')
  for (const o of avail.body.options as Array<{ machine_id: number[]; start_time: number; end_time: number }>) {
    if (o.machine_id.includes(2)) t.ok(o.start_time >= at('18:00'), 'bay 2 only after its maintenance')
    if (o.machine_id.includes(5)) t.ok(o.start_time >= at('11:00'), 'bay 5 only after its stop')
    t.ok(o.end_time <= at('22:00'), 'inside opening hours')
  }
  const grid = await h.api('kiosk_interface', 'GET', '/api/schedule?date=2026-01-01&format=slots')
  const row = (grid.body.schedule as Array<[string, ...Array<{ machine_id: number; status: string; reason?: string }>]>).find((r) => r[0] === '10:05')!
  t.match(row[2], { machine_id: 2, status: 'unavailable', reason: /^bay 2 is in maintenance until 18:00/ }, 'the grid shows the maintenance bay unavailable')
  t.match(row[3], { machine_id: 3, status: 'unavailable', reason: /^bay 3 is in error/ })
  t.match(row[4], { machine_id: 4, status: 'available' })
})

t.test('an admin "active" without scheduled_until gets a deadline, capped at closing time', async (t) => {
  const h = await startTestHub(t, { HUB_OPENING_HOURS: '08:00-12:00' })
  const sim = await h.simulate([4])
  await waitFor(() => h.hub.machines.get(4)?.online === true, 10_000, 'dispenser online')
  const r = await h.api('admin', 'POST', '/api/machines/4/override', { status: 'active' })
  t.equal(r.status, 200)
  t.match(r.body.desired, { status: 'active', scheduled_until: at('12:00') }, '10:00 + 240 min is past the 12:00 close: capped at close')
  await waitFor(() => sim.get(4)!.state.output === true, 10_000, 'dispensing')
  t.equal(sim.get(4)!.state.scheduled_until, at('12:00'), 'the dispenser got the deadline as its fail-safe')
})

t.test('guarded overrides: stop / maintenance over booked sessions needs confirm and a reason, on both doors', async (t) => {
  const h = await startTestHub(t)
  await h.simulate([4, 5])
  await waitFor(() => h.hub.machines.list().filter((m) => m.online).length === 2, 10_000, 'dispensers online')
  const running = await h.api('kiosk_interface', 'POST', '/api/sessions', { machine_id: 4, status: 'reserved', start_time: h.clock.nowSeconds(), duration: 3600 })
  t.equal(running.status, 201)
  const later = await h.api('kiosk_interface', 'POST', '/api/sessions', { machine_id: 4, status: 'reserved', start_time: at('16:00'), duration: 3600 })
  t.equal(later.status, 201)
  const [a, b] = [running.body.session_id as number, later.body.session_id as number]
  const names = new RegExp(`bay 4 has session ${a} \\(10:00-11:00, running\\), session ${b} \\(16:00-17:00\\); to stop it send confirm: true and a reason$`)

  const bare = await h.api('admin', 'POST', '/api/machines/4/override', { status: 'idle' })
  t.equal(bare.status, 409)
  t.equal(bare.body.error, 'OVERRIDE_UNCONFIRMED')
  t.match(bare.body.message, names, 'names every running and upcoming session')
  const noReason = await h.api('admin', 'POST', '/api/machines/4/override', { status: 'maintenance', confirm: true })
  t.match(noReason.body, { error: 'OVERRIDE_UNCONFIRMED', message: /^reason: bay 4 has/ })
  const short = await h.api('admin', 'POST', '/api/machines/4/override', { status: 'maintenance', scheduled_until: at('10:30') })
  t.match(short.body, { message: new RegExp(`session ${a} .*running`) }, 'an override ending before the later session names only the running one')
  t.notMatch(short.body.message, new RegExp(`session ${b}`))

  const admin = await h.node('admin_portal')
  await admin.subscribeAsync('internal/admin', { qos: 1 })
  const overMqtt = async (body: object, id: number) => {
    const reply = nextMessage(admin, 'internal/admin', (m) => m.exchange_id === id && 'success' in m)
    await admin.publishAsync('internal/handler', JSON.stringify({ machine_id: 4, origin_node: 'admin_portal', exchange_id: id, ...body }), { qos: 1 })
    return reply
  }
  const refused = await overMqtt({ status: 'idle' }, 501)
  t.match(refused, { success: false, message: names }, 'MQTT: the same refusal')
  t.equal(h.hub.machines.get(4)?.desired?.source, 'schedule', 'refusals change nothing: the session keeps its bay')

  const free = await h.api('admin', 'POST', '/api/machines/5/override', { status: 'maintenance' })
  t.equal(free.status, 200, 'a bay without sessions needs no confirmation')
  const confirmed = await overMqtt({ status: 'idle', confirm: true, reason: 'ball jam reported by the golfer' }, 502)
  t.match(confirmed, { success: true, machine_id: 4, status: 'idle' })
  await waitFor(() => h.hub.machines.get(4)?.reported_status === 'idle', 10_000, 'the bay stops')
})
