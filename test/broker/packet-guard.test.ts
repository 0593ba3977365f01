import t from 'tap'
import { renderFamilies } from '../../src/metrics/index.js'
import { connect as tcpConnect, createServer, type AddressInfo, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'
import { createPacketScanner, guardPackets } from '../../src/broker/packet-guard.js'
import { addMachine, startTestBroker } from '../helpers/broker.js'

const packet = (fields: Record<string, unknown>) => mqttPacket.generate(fields as unknown as mqttPacket.Packet)
const publish = (topic: string | Buffer, payload: string, qos: 0 | 1 = 0, messageId = 1) => {
  const bytes = packet({ cmd: 'publish', topic: typeof topic === 'string' ? topic : 'x'.repeat(topic.length), payload, qos, messageId, retain: false, dup: false })
  if (typeof topic !== 'string') topic.copy(bytes, bytes.indexOf(Buffer.from('x'.repeat(topic.length))))
  return bytes
}

/** Feeds `bytes` in pieces of `step` and returns the first failure, or ok. */
function scan(max: number, bytes: Buffer, step = bytes.length) {
  const scanner = createPacketScanner(max)
  for (let i = 0; i < bytes.length; i += step) {
    const result = scanner.scan(bytes.subarray(i, i + step))
    if (!result.ok) return result
  }
  return { ok: true as const }
}

t.test('the scanner follows packet boundaries across any chunking', async (t) => {
  const stream = Buffer.concat([
    packet({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c', clean: true, keepalive: 10 }),
    publish('internal/manager', 'x'.repeat(300), 1, 7),
    packet({ cmd: 'pingreq' }),
    publish('a/b', '', 0),
    packet({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'internal/kiosk', qos: 1 }] }),
  ])
  for (const step of [1, 2, 3, 7, 64, stream.length]) t.same(scan(1024, stream, step), { ok: true }, `chunks of ${step}`)
})

t.test('a header announcing more than the limit fails at once, before the body', async (t) => {
  // CONNECT claiming 256 MB (remaining length 0xFF 0xFF 0xFF 0x7F): only the first 5 bytes are needed
  const header = Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f])
  t.match(scan(65536, header, 1), { ok: false, code: 'packet_too_large', reason: /268435460 bytes is over the 65536-byte limit/ })
  // 1 type byte + 3 length bytes + 2 + 1 topic bytes + payload = 65536
  const exact = publish('t', 'x'.repeat(65536 - 7))
  t.equal(exact.length, 65536)
  t.same(scan(65536, exact), { ok: true }, 'exactly the limit passes')
  t.match(scan(65536, publish('t', 'x'.repeat(65536 - 6))), { ok: false, code: 'packet_too_large', reason: /65537 bytes/ }, 'one byte more fails')
  t.match(scan(65536, Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01])), { ok: false, code: 'malformed' }, 'a fifth length byte')
})

t.test('PUBLISH topics must be UTF-8 without U+0000, and QoS>0 packet ids non-zero', async (t) => {
  t.same(scan(1024, publish('internal/ümlaut/✓', '{}', 1)), { ok: true })
  t.match(scan(1024, publish(Buffer.from([0x61, 0xff, 0x62]), '{}')), { ok: false, code: 'bad_topic', reason: /not valid UTF-8/ })
  t.match(scan(1024, publish(Buffer.from([0xed, 0xa0, 0x80]), '{}')), { ok: false, code: 'bad_topic' }, 'an encoded surrogate')
  t.match(scan(1024, publish(Buffer.from([0x61, 0x00]), '{}')), { ok: false, code: 'bad_topic', reason: /U\+0000/ })
  for (const step of [1, 3]) {
    t.match(scan(1024, publish('internal/manager', '{}', 1, 0), step), { ok: false, code: 'packet_id_zero' }, `packet id 0, chunks of ${step}`)
    t.match(scan(1024, publish(Buffer.from([0x61, 0xc3]), '{}'), step), { ok: false, code: 'bad_topic' }, `cut sequence, chunks of ${step}`)
  }
  t.same(scan(1024, publish('internal/manager', '{}', 0, 0)), { ok: true }, 'QoS 0 has no packet id')
  const qos3 = publish('t', '{}', 1)
  qos3[0] = 0x36
  t.match(scan(1024, qos3), { ok: false, code: 'malformed', reason: /QoS 3/ })
  t.match(scan(1024, Buffer.from([0x30, 0x03, 0x00, 0x09, 0x61])), { ok: false, code: 'malformed', reason: /topic longer than the packet/ })
})

/** Opens a raw socket, writes `bytes`, resolves with what happened. */
function rawSend(port: number, bytes: Buffer[]): Promise<{ closed: boolean; received: Buffer }> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1')
    let received = Buffer.alloc(0)
    socket.on('data', (d) => (received = Buffer.concat([received, d])))
    socket.on('error', () => {})
    socket.on('close', () => resolve({ closed: true, received }))
    socket.on('connect', () => {
      for (const b of bytes) socket.write(b)
    })
  })
}

t.test('the real broker closes oversized, bad-topic and id-0 connections on TCP and WebSocket, and counts them', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  const b = await startTestBroker(dir, { HUB_MQTT_MAX_PACKET: '4096', HUB_MQTT_WS_PORT: '0' })
  t.teardown(() => b.close())
  const bigConnect = Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x04])
  const result = await rawSend(b.broker.ports.mqtt, [bigConnect, Buffer.alloc(1024 * 1024, 0x41)])
  t.ok(result.closed)
  t.equal(result.received.length, 0, 'no CONNACK for it')

  // an authenticated dispenser writing the bad packets by hand (mqtt.js won't encode them)
  const M1 = { clientId: 'machine_001', username: 'machine_001', password: 's1', keepalive: 10 }
  const bads: Array<[string, Buffer]> = [
    ['an invalid UTF-8 topic', publish(Buffer.from([0x65, 0xff]), '{}', 1)],
    ['packet id 0', publish('external/handler', '{}', 1, 0)],
  ]
  for (const [what, bad] of bads) {
    const m = await b.connect(M1)
    const closed = new Promise((r) => m.stream.once('close', r))
    m.stream.write(bad)
    await closed
    t.pass(`${what} closed the connection`)
  }

  // MQTT over WebSocket goes through the same guard
  const { WebSocket } = await import('ws')
  const ws = new WebSocket(`ws://127.0.0.1:${b.broker.ports.ws}`, 'mqtt')
  await new Promise((r) => ws.once('open', r))
  const closed = new Promise((r) => ws.once('close', r))
  ws.send(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))
  ws.send(Buffer.alloc(2048, 0x41))
  await closed
  const metrics = (await renderFamilies(b.broker.metrics()))
  t.match(metrics, /dispenser_mqtt_closed_connections_total\{reason="packet_too_large"\} 2/)
  t.match(metrics, /dispenser_mqtt_closed_connections_total\{reason="bad_topic"\} 1/)
  t.match(metrics, /dispenser_mqtt_closed_connections_total\{reason="packet_id_zero"\} 1/)

  // a normal client under the limit still works
  const m1 = await b.connect(M1)
  await m1.publishAsync('external/handler', JSON.stringify({ machine_id: 1, status: 'idle', pad: 'x'.repeat(3000) }), { qos: 1 })
  t.ok(m1.connected)
})

t.test('the TLS listener reads through the same guard', async (t) => {
  const { connect: tlsConnect } = await import('node:tls')
  const { readFileSync } = await import('node:fs')
  const { fileURLToPath } = await import('node:url')
  const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
  const dir = t.testdir()
  const b = await startTestBroker(dir, { HUB_MQTT_TLS_PORT: '0', HUB_TLS_CERT: fixture('tls-cert.pem'), HUB_TLS_KEY: fixture('tls-key.pem') })
  t.teardown(() => b.close())
  const socket = tlsConnect({ port: b.broker.ports.tls!, host: '127.0.0.1', ca: readFileSync(fixture('tls-cert.pem')), servername: 'localhost' })
  socket.on('error', () => {})
  await new Promise((r) => socket.once('secureConnect', r))
  const closed = new Promise((r) => socket.once('close', r))
  socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))
  socket.write(Buffer.alloc(256 * 1024, 0x41))
  await closed
  t.match((await renderFamilies(b.broker.metrics())), /dispenser_mqtt_closed_connections_total\{reason="packet_too_large"\} 1/)
})

t.test('a packet Aedes writes in pieces leaves the guard as one socket write (issue 17)', async (t) => {
  // A real TCP pair: the guard wraps the accepting side, as the listeners do.
  const server = createServer({ noDelay: true })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve))
  const client = tcpConnect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' })
  t.teardown(() => client.destroy())
  const inner = await accepted
  t.teardown(() => inner.destroy())
  const writes: number[] = []
  const write = inner.write.bind(inner) as (chunk: Buffer) => boolean
  inner.write = ((chunk: Buffer) => {
    writes.push(chunk.length)
    return write(chunk)
  }) as typeof inner.write
  const outer = guardPackets(inner, { maxPacket: 65_536 })

  const control = { cmd: 'publish', topic: 'external/machine/7', payload: Buffer.from(JSON.stringify({ status: 'idle', exchange_id: 9 })), qos: 1, messageId: 42, retain: false, dup: false } as const
  const puback = { cmd: 'puback', messageId: 43 } as const
  const expected = Buffer.concat([mqttPacket.generate(control), mqttPacket.generate(puback)])
  const received: Buffer[] = []
  const all = new Promise<void>((resolve) => {
    client.on('data', (chunk: Buffer) => {
      received.push(chunk)
      if (Buffer.concat(received).length >= expected.length) resolve()
    })
  })
  // mqtt-packet writes each packet as several pieces into the corked stream (as Aedes does)
  mqttPacket.writeToStream(control, outer)
  mqttPacket.writeToStream(puback, outer)
  await all
  t.same(Buffer.concat(received), expected, 'the bytes arrive whole and in order')
  t.same(writes, [expected.length], 'one write to the socket for both packets, not one per piece')

  // a packet written on its own later is one write too
  const second = mqttPacket.generate({ ...control, messageId: 44 })
  const more = new Promise<void>((resolve) => client.on('data', () => Buffer.concat(received).length >= expected.length + second.length && resolve()))
  mqttPacket.writeToStream({ ...control, messageId: 44 }, outer)
  await more
  t.same(writes, [expected.length, second.length])
  t.same(Buffer.concat(received).subarray(expected.length), second)
})
