/** The broker's limits with real clients: takeover, retain, rates, lengths, throttled logins. */
import { renderFamilies } from '../../src/metrics/index.js'
import t from 'tap'
import type { MqttClient } from 'mqtt'
import type { InboundMessage } from '../../src/broker/port.js'
import { addNode, startTestBroker } from '../helpers/broker.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { until } from './raw.js'
import { ADMIN, KIOSK, M1, connectionLog, world } from './world.js'

const confirmations = (client: MqttClient) => {
  const got: Array<Record<string, unknown>> = []
  client.on('message', (_topic, payload) => got.push(JSON.parse(payload.toString()) as Record<string, unknown>))
  return got
}

t.test('a node may not take over another node\'s client id; it may take over its own', async (t) => {
  const b = await world(t)
  const { downs } = connectionLog(b)
  const admin = await b.connect({ ...ADMIN, clientId: 'console' })
  t.match(String(await b.refusal({ ...KIOSK, clientId: 'console' })), /Identifier rejected/i, 'kiosk refused')
  t.ok(admin.connected, 'the admin console stays connected')
  t.same(downs, [])
  const again = await b.connect({ ...ADMIN, clientId: 'console' })
  t.ok(again.connected, 'the same node reconnecting takes over')
  await until(() => downs.length === 1)
  t.match(downs, [{ client: { kind: 'node', node: 'admin_portal' }, reason: 'takeover' }])
})

t.test('retain is refused on the inboxes with a Confirmation; nothing is kept or replayed', async (t) => {
  const b = await world(t)
  const seen: InboundMessage[] = []
  b.broker.onMessage('#', (m) => seen.push(m))
  const kiosk = await b.connect(KIOSK)
  const told = confirmations(kiosk)
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  await kiosk.publishAsync('internal/manager', JSON.stringify({ request_id: 5, request_type: 'schedule' }), { qos: 1, retain: true })
  await until(() => told.length === 1, 5000, 'Confirmation')
  t.match(told[0], { success: false, request_id: 5, message: /retain is not allowed on internal\/manager/, origin_node: 'schedule_manager', destination_node: 'kiosk_interface' })
  t.same(seen, [], 'the hub did not handle it either')
  const late = await b.connect({ ...ADMIN, clientId: 'late' })
  const replayed: string[] = []
  late.on('message', (topic) => replayed.push(topic))
  await late.subscribeAsync(['internal/manager', 'external/handler'], { qos: 1 })
  // a normal publish after the subscription proves delivery works, and comes first if nothing was retained
  await kiosk.publishAsync('internal/manager', JSON.stringify({ request_id: 6, request_type: 'schedule' }), { qos: 1 })
  await until(() => replayed.length >= 1)
  t.same(replayed, ['internal/manager'], 'only the live message, no retained copy')
})

t.test('retained messages left on the inboxes by older versions are dropped at start', async (t) => {
  const dir = t.testdir()
  const first = await startTestBroker(dir, { HUB_MQTT_ALLOW_ANONYMOUS: 'true' })
  await first.broker.publish('internal/manager', { stale: true }, { retain: true, qos: 1 })
  await first.broker.publish('internal/admin', { kept: true }, { retain: true, qos: 1 })
  await first.close()
  const second = await startTestBroker(dir, { HUB_MQTT_ALLOW_ANONYMOUS: 'true' })
  t.teardown(() => second.close())
  const tool = await second.connect({ clientId: 'tool' })
  const got: string[] = []
  tool.on('message', (topic) => got.push(topic))
  await tool.subscribeAsync(['internal/admin', 'internal/manager'], { qos: 1 })
  await until(() => got.length >= 1)
  await tool.publishAsync('internal/handler', '{}', { qos: 1 }) // a round trip, so a late retained copy would have arrived
  t.same(got, ['internal/admin'], 'the inbox copy is gone, the hub topic keeps its own')
})

t.test('per-client rate on internal/manager: the excess is dropped, counted and told once', async (t) => {
  const b = await world(t, { HUB_MQTT_RATE: '1', HUB_MQTT_BURST: '5' })
  const seen: InboundMessage[] = []
  b.broker.onMessage('internal/manager', (m) => seen.push(m))
  const kiosk = await b.connect(KIOSK)
  const told = confirmations(kiosk)
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  const sent = Date.now()
  for (let i = 0; i < 100; i++) await kiosk.publishAsync('internal/manager', JSON.stringify({ request_id: i, request_type: 'schedule' }), { qos: 1 })
  const allowed = 5 + Math.floor((Date.now() - sent) / 1000) + 1
  await until(() => told.length >= 1, 5000, 'the rate notice')
  t.ok(seen.length >= 5 && seen.length <= allowed, `${seen.length} of 100 passed (burst 5 at 1/s)`)
  t.equal(told.length, 1, 'one notice for the interval, not 95')
  t.match(told[0], { success: false, message: /rate limited: at most 1 messages\/s \(burst 5\) to internal\/manager/ })
  t.ok(kiosk.connected, 'the client stays connected')
  t.match((await renderFamilies(b.broker.metrics())), new RegExp(`dispenser_mqtt_dropped_total\\{reason="rate"\\} ${100 - seen.length}`))

  // another client has its own bucket; dispensers' reports pass at their own generous rate
  const admin = await b.connect(ADMIN)
  await admin.publishAsync('internal/handler', JSON.stringify({ request_type: 'machine', request_id: 1 }), { qos: 1 })
  const reports: InboundMessage[] = []
  b.broker.onMessage('external/handler', (m) => reports.push(m))
  const m1 = await b.connect(M1)
  for (let i = 0; i < 100; i++) await m1.publishAsync('external/handler', JSON.stringify({ machine_id: 1, status: 'idle' }), { qos: 1 })
  await until(() => reports.length === 100, 5000, 'all 100 reports')
  t.pass('100 reports from one dispenser in a burst all passed')
})

t.test('an ACL refusal of a node is answered on its reply topic, naming the problem', async (t) => {
  const b = await world(t)
  const kiosk = await b.connect(KIOSK)
  const told = confirmations(kiosk)
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  await kiosk.publishAsync('external/machine/1', JSON.stringify({ machine_id: 1, status: 'active', exchange_id: 3 }), { qos: 1 })
  await kiosk.publishAsync('internal/manager', JSON.stringify({ request_type: 'schedule', origin_node: 'golf_app', request_id: 4 }), { qos: 1 })
  await until(() => told.length === 2, 5000, 'two Confirmations')
  t.match(told[0], { success: false, exchange_id: 3, destination_node: 'kiosk_interface', message: /publish to external\/machine\/1 refused: kiosk nodes may publish only to internal\/manager and internal\/handler/ })
  t.match(told[1], { success: false, request_id: 4, destination_node: 'kiosk_interface', message: /origin_node: node kiosk_interface may not publish as "golf_app"/ })
})

t.test('client ids and usernames longer than HUB_MQTT_MAX_ID_LENGTH are refused', async (t) => {
  const b = await world(t)
  t.equal(await b.refusal({ ...KIOSK, clientId: 'k'.repeat(128) }), undefined, '128 is fine')
  t.match(String(await b.refusal({ ...KIOSK, clientId: 'k'.repeat(129) })), /Identifier rejected/i)
  t.match(String(await b.refusal({ ...KIOSK, username: 'u'.repeat(129) })), /Bad username or password/i)
  t.match((await renderFamilies(b.broker.metrics())), /dispenser_mqtt_refused_connections_total\{reason="too_long"\} 2/)
})

t.test('after HUB_MQTT_AUTH_FAILURES wrong secrets a name is refused without a check; other names are not', async (t) => {
  const clock = new FakeClock(Date.now())
  const dir = t.testdir()
  await addNode(dir, 'kiosk_interface', 'kiosk', 'ks')
  await addNode(dir, 'admin_portal', 'admin', 'as')
  const b = await startTestBroker(dir, { HUB_MQTT_AUTH_FAILURES: '3' }, { clock })
  t.teardown(() => b.close())
  for (let i = 0; i < 3; i++) t.match(String(await b.refusal({ ...KIOSK, clientId: `g${i}`, password: `guess${i}` })), /Bad username or password/i)
  t.match(String(await b.refusal({ ...KIOSK, clientId: 'g3', password: 'ks' })), /Bad username or password/i, 'even the right secret waits out the back-off')
  t.match((await renderFamilies(b.broker.metrics())), /reason="throttled"\} 1/)
  t.match((await renderFamilies(b.broker.metrics())), /reason="bad_credentials"\} 3/)
  t.equal(await b.refusal(ADMIN), undefined, 'another name from the same address logs in')
  await clock.advance(1000) // the first back-off is 1 s
  t.equal(await b.refusal({ ...KIOSK, clientId: 'g4' }), undefined, 'after the back-off the right secret works')
})

t.test('usernames inherited from Object.prototype get a clean CONNACK 4', async (t) => {
  const b = await world(t)
  for (const username of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    t.match(String(await b.refusal({ clientId: `c-${username}`, username, password: 'x' })), /Bad username or password/i, username)
  }
  t.match((await renderFamilies(b.broker.metrics())), /reason="bad_credentials"\} 4/)
  t.notMatch((await renderFamilies(b.broker.metrics())), /reason="error"/, 'no internal error')
})
