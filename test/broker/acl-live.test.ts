import t from 'tap'
import type { InboundMessage } from '../../src/broker/port.js'
import { until } from './raw.js'
import { ADMIN, grants, KIOSK, M1, M2, connectionLog, world } from './world.js'

const report = (machine_id: number, extra: object = {}) => JSON.stringify({ machine_id, status: 'idle', ball_level: 'full', ...extra })

t.test('machine 1 cannot publish as machine 2; the refusal is acknowledged and dropped, the connection stays', async (t) => {
  const refused: string[] = []
  const b = await world(t, {}, refused)
  const { downs } = connectionLog(b)
  const seen: InboundMessage[] = []
  b.broker.onMessage('#', (m) => seen.push(m))
  const admin = await b.connect(ADMIN)
  const spied: string[] = []
  admin.on('message', (topic, payload) => spied.push(`${topic} ${payload.toString()}`))
  await admin.subscribeAsync('external/#', { qos: 1 })

  const m1 = await b.connect(M1)
  const told: Array<Record<string, unknown>> = []
  m1.on('message', (_topic, payload) => told.push(JSON.parse(payload.toString()) as Record<string, unknown>))
  await m1.subscribeAsync('external/machine/1', { qos: 1 })
  await m1.publishAsync('external/handler', report(2, { exchange_id: 9 }), { qos: 1 })
  await m1.publishAsync('external/handler', report(1, { origin_node: 'machine_002' }), { qos: 1 })
  await m1.publishAsync('external/handler', report(2), { qos: 0 })
  await m1.publishAsync('external/machine/2', JSON.stringify({ status: 'active' }), { qos: 1, retain: true })
  await m1.publishAsync('external/handler', report(1, { origin_node: 'machine_1' }), { qos: 1 })
  await until(() => seen.length === 1, 5000, 'the genuine report')
  t.match(seen, [{ topic: 'external/handler', client: { kind: 'machine', machineId: 1 } }], 'only the genuine report reached the hub')
  t.same(JSON.parse(seen[0]!.payload.toString()).machine_id, 1)
  t.ok(m1.connected, 'still connected after four refused publishes')
  t.same(downs, [], 'no disconnect')
  await until(() => spied.some((s) => s.startsWith('external/handler')), 5000, 'admin copy')
  t.match(spied.filter((s) => s.startsWith('external/handler')), [/^external\/handler .*"machine_id":1/], 'no subscriber saw the forged ones')
  // issue 10 defect 11: each refusal is answered on the dispenser's own topic, naming the problem
  await until(() => told.length === 4, 5000, 'four refusal Confirmations')
  t.match(told[0], { success: false, message: /machine_id: 2 is not the sender \(machine 1\)/, exchange_id: 9, origin_node: 'machine_handler', destination_node: 'machine_001' })
  t.match(told[1], { success: false, message: /origin_node: "machine_002" is not the sender/ })
  t.match(told[3], { success: false, message: /external\/machine\/2 refused: machine 1 may publish only to external\/handler/ })
  t.same(refused, [...Array(4).fill('machine_001 publish external/handler').slice(0, 3), 'machine_001 publish external/machine/2'], 'each refusal reported')

  const late = await b.connect({ ...ADMIN, clientId: 'a2' })
  const retained: string[] = []
  late.on('message', (topic) => retained.push(topic))
  await late.subscribeAsync('external/machine/2', { qos: 1 })
  await new Promise((r) => setTimeout(r, 200))
  t.same(retained, [], 'the refused retained publish was not kept')
})

t.test('subscriptions outside the ACL get SUBACK 0x80 and keep the connection', async (t) => {
  const b = await world(t)
  const m1 = await b.connect(M1)
  t.same(await grants(m1, ['external/machine/2', 'external/machine/1', 'external/machine/+', '#']), [128, 1, 128, 128])
  const kiosk = await b.connect(KIOSK)
  t.same(await grants(kiosk, ['internal/kiosk', 'internal/kiosk_interface', 'internal/admin', 'internal/#', 'external/machine/1']), [1, 128, 128, 128, 128], 'kiosk_interface replies go to internal/kiosk only')
  t.ok(m1.connected && kiosk.connected)
})

t.test('a node cannot command a dispenser, and a kiosk cannot reply-as another node', async (t) => {
  const b = await world(t)
  const m2 = await b.connect(M2)
  const commands: string[] = []
  m2.on('message', (_topic, p) => commands.push(p.toString()))
  await m2.subscribeAsync('external/machine/2', { qos: 1 })
  const seen: InboundMessage[] = []
  b.broker.onMessage('#', (m) => seen.push(m))

  const kiosk = await b.connect(KIOSK)
  await kiosk.publishAsync('external/machine/2', JSON.stringify({ machine_id: 2, status: 'active' }), { qos: 1 })
  await kiosk.publishAsync('external/handler', report(2), { qos: 1 })
  await kiosk.publishAsync('internal/manager', JSON.stringify({ origin_node: 'admin_portal', request_id: 1 }), { qos: 1 })
  await kiosk.publishAsync('internal/manager', JSON.stringify({ origin_node: 'kiosk_interface', request_id: 2 }), { qos: 1 })
  const admin = await b.connect(ADMIN)
  await admin.publishAsync('external/machine/2', JSON.stringify({ machine_id: 2, status: 'active' }), { qos: 1 })
  await admin.publishAsync('internal/handler', JSON.stringify({ origin_node: 'kiosk_interface', request_id: 3 }), { qos: 1 })
  await until(() => seen.length === 2)
  await new Promise((r) => setTimeout(r, 200))
  t.same(commands, [], 'machine 2 got no command from a node')
  t.same(seen.map((m) => [m.topic, JSON.parse(m.payload.toString()).request_id]), [['internal/manager', 2], ['internal/handler', 3]])
})
