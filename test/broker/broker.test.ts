import t, { type Test } from 'tap'
import { connect as tcpConnect } from 'node:net'
import mqttPacket from 'mqtt-packet'
import type { ClientIdentity, DisconnectReason } from '../../src/broker/port.js'
import { addMachine, addNode, startTestBroker, type TestBroker } from '../helpers/broker.js'

const M1 = { clientId: 'machine_001', username: 'machine_001', password: 's1', keepalive: 10 }
const M2 = { clientId: 'machine_002', username: 'machine_2', password: 's2', keepalive: 10 }

async function world(t: Test, env: Record<string, string> = {}): Promise<TestBroker> {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  await addMachine(dir, 2, 's2')
  await addNode(dir, 'kiosk_interface', 'kiosk', 'ks')
  await addNode(dir, 'admin_portal', 'admin', 'as')
  const b = await startTestBroker(dir, env)
  t.teardown(() => b.close())
  return b
}

function events(b: TestBroker) {
  const ups: ClientIdentity[] = []
  const downs: Array<{ client: ClientIdentity; reason: DisconnectReason; at: number }> = []
  b.broker.onClientUp((c) => ups.push(c))
  b.broker.onClientDown((client, reason) => downs.push({ client, reason, at: Date.now() }))
  return { ups, downs }
}

/** Sends one raw CONNECT and resolves with the CONNACK return code. */
function rawConnack(port: number, fields: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1')
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    parser.on('packet', (packet: { cmd: string; returnCode?: number }) => {
      if (packet.cmd === 'connack') {
        socket.destroy()
        resolve(packet.returnCode ?? -1)
      }
    })
    socket.on('data', (chunk) => parser.parse(chunk))
    socket.on('error', reject)
    const { clean = true, ...rest } = fields
    const bytes = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, keepalive: 30, ...rest, clean: true } as mqttPacket.IConnectPacket)
    // The encoder refuses an empty id with a persistent session, so clear the clean-session flag
    // by hand: 1 header byte, 1 length byte, "\0\4MQTT", level, then the flags byte.
    if (!clean) bytes[9] = bytes[9]! & ~0x02
    socket.write(bytes)
  })
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

t.test('credentials: right secret in, wrong secret and anonymous out', async (t) => {
  const b = await world(t)
  t.equal(await b.refusal(M1), undefined, 'machine with its secret connects')
  t.match(String(await b.refusal({ ...M1, password: 'nope' })), /Bad username or password/i)
  t.match(String(await b.refusal({ clientId: 'tool' })), /Not authorized/i, 'anonymous refused by default')
  t.match(String(await b.refusal({ ...M1, clientId: 'machine_002' })), /Identifier rejected/i, 'client id must name the same machine')
  t.equal(await b.refusal({ clientId: 'k', username: 'kiosk_interface', password: 'ks' }), undefined, 'node connects')
})

t.test('keep-alive rule for dispensers only; empty client id needs a clean session', async (t) => {
  const b = await world(t)
  t.match(String(await b.refusal({ ...M1, keepalive: 0 })), /Not authorized/i, 'keep-alive 0 refused')
  t.match(String(await b.refusal({ ...M1, keepalive: 11 })), /Not authorized/i, 'keep-alive above the limit refused')
  t.equal(await b.refusal({ clientId: 'k', username: 'kiosk_interface', password: 'ks', keepalive: 0 }), undefined, 'nodes may use 0')
  t.equal(await b.refusal({ clientId: 'k2', username: 'kiosk_interface', password: 'ks', keepalive: 300 }), undefined, 'and long ones')
  // mqtt.js will not even send this CONNECT, so speak raw MQTT: CONNACK code 2 = identifier rejected
  t.equal(await rawConnack(b.broker.ports.mqtt, { clientId: '', clean: false, username: 'kiosk_interface', password: Buffer.from('ks') }), 2)
  t.equal(await rawConnack(b.broker.ports.mqtt, { clientId: '', clean: true, username: 'kiosk_interface', password: Buffer.from('ks') }), 0)
})

t.test('anonymous allowed when configured', async (t) => {
  const b = await world(t, { HUB_MQTT_ALLOW_ANONYMOUS: 'true' })
  t.equal(await b.refusal({ clientId: 'tool' }), undefined)
})

t.test('machine 1 cannot publish as machine 2 nor subscribe to its topic', async (t) => {
  const b = await world(t)
  const seen: string[] = []
  b.broker.onMessage('external/handler', (m) => seen.push(m.payload.toString()))
  const m1 = await b.connect(M1)
  const refused = await m1.subscribeAsync('external/machine/2', { qos: 1 }).catch((e: { packet?: { granted?: number[] } }) => e.packet?.granted)
  t.same(refused, [128], 'SUBACK failure for another machine topic')
  const own = await m1.subscribeAsync('external/machine/1', { qos: 1 })
  t.equal(own[0]?.qos, 1, 'own topic granted')
  await m1.publishAsync('external/handler', JSON.stringify({ machine_id: 1, status: 'idle', ball_level: 'full' }), { qos: 1 })
  await until(() => seen.length === 1)
  const closed = new Promise<void>((r) => m1.once('close', () => r()))
  m1.publish('external/handler', JSON.stringify({ machine_id: 2, status: 'active', ball_level: 'full' }), { qos: 1 })
  await closed
  t.pass('impersonating publish closes the connection (MQTT 3.1.1 [MQTT-3.3.5-2])')
  await new Promise((r) => setTimeout(r, 100))
  t.same(seen.map((s) => JSON.parse(s).machine_id), [1], 'the forged report never reached the hub')
  const m2 = await b.connect(M2)
  const closed2 = new Promise<void>((r) => m2.once('close', () => r()))
  m2.publish('external/machine/1', JSON.stringify({ status: 'active' }), { qos: 1 })
  await closed2
  t.pass('a machine cannot command another')
})

t.test('hub publishes reach subscribers; client publishes reach onMessage with identity', async (t) => {
  const b = await world(t)
  const m1 = await b.connect(M1)
  await m1.subscribeAsync('external/machine/1', { qos: 1 })
  const got = new Promise<string>((r) => m1.once('message', (_topic, payload) => r(payload.toString())))
  await b.broker.publish('external/machine/1', { status: 'active' }, { qos: 1 })
  t.same(JSON.parse(await got), { status: 'active' })
  const inbound = new Promise<ClientIdentity | null>((r) => b.broker.onMessage('internal/+', (m) => r(m.client)))
  const kiosk = await b.connect({ clientId: 'k', username: 'kiosk_interface', password: 'ks' })
  await kiosk.publishAsync('internal/manager', '{}', { qos: 1 })
  t.match(await inbound, { kind: 'node', node: 'kiosk_interface', role: 'kiosk' })
})

t.test('presence: connect, clean disconnect, dropped socket, takeover', async (t) => {
  const b = await world(t)
  const { ups, downs } = events(b)
  const c = await b.connect(M1)
  await until(() => ups.length === 1)
  t.match(ups[0], { kind: 'machine', machineId: 1, keepalive: 10 })
  await c.endAsync()
  await until(() => downs.length === 1)
  t.equal(downs[0]!.reason, 'clean')

  const d = await b.connect(M1)
  await until(() => ups.length === 2)
  ;(d.stream as unknown as { destroy(): void }).destroy()
  await until(() => downs.length === 2)
  t.equal(downs[1]!.reason, 'dropped')

  await b.connect(M1)
  await until(() => ups.length === 3)
  await b.connect(M1)
  await until(() => ups.length === 4 && downs.length === 3)
  t.equal(downs[2]!.reason, 'takeover')
  t.equal(b.broker.connectedClients().length, 1)
})

t.test('presence: keep-alive expiry is seen within 1.5 x keep-alive', async (t) => {
  const b = await world(t)
  const { ups, downs } = events(b)
  // A raw client that connects with keep-alive 2 s and then goes silent (never pings).
  const socket = tcpConnect(b.broker.ports.mqtt, '127.0.0.1')
  t.teardown(() => socket.destroy())
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'machine_001', keepalive: 2, username: 'machine_001', password: Buffer.from('s1') }))
  await until(() => ups.length === 1)
  const connectedAt = Date.now()
  await until(() => downs.length === 1, 6000)
  t.equal(downs[0]!.reason, 'keepalive')
  const elapsed = downs[0]!.at - connectedAt
  t.ok(elapsed >= 2000 && elapsed <= 3000 + 500, `offline after ${elapsed} ms (keep-alive 2 s, limit 3 s + event margin)`)
})

t.test('a retained QoS 1 message survives closing and re-creating the broker', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'admin_portal', 'admin', 'as')
  const first = await startTestBroker(dir)
  await first.broker.publish('internal/admin', { kept: true }, { qos: 1, retain: true })
  await first.close()
  const second = await startTestBroker(dir)
  t.teardown(() => second.close())
  const admin = await second.connect({ clientId: 'a', username: 'admin_portal', password: 'as' })
  const got = new Promise<string>((r) => admin.once('message', (_t, p) => r(p.toString())))
  await admin.subscribeAsync('internal/admin', { qos: 1 })
  t.same(JSON.parse(await got), { kept: true })
})

t.test('a credential added while the broker runs is used at once', async (t) => {
  const b = await world(t)
  t.match(String(await b.refusal({ clientId: 'machine_003', username: 'machine_3', password: 's3', keepalive: 5 })), /Bad username/i)
  await addMachine(b.config.dataDir, 3, 's3')
  t.equal(await b.refusal({ clientId: 'machine_003', username: 'machine_3', password: 's3', keepalive: 5 }), undefined)
})
