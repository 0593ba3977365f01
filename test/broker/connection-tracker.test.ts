import t from 'tap'
import { connect as tcpConnect } from 'node:net'
import mqttPacket from 'mqtt-packet'
import { M1, M2, KIOSK, connectionLog, world } from './world.js'
import { silentClient, until } from './raw.js'
import { addMachine, addNode, startTestBroker } from '../helpers/broker.js'

t.test('up on connect; down with reason clean, dropped (socket closed or reset), takeover', async (t) => {
  const b = await world(t)
  const { ups, downs } = connectionLog(b)
  const c = await b.connect(M1)
  await until(() => ups.length === 1)
  t.match(ups[0], { kind: 'machine', machineId: 1, keepalive: 10, clientId: 'machine_001' })
  t.match(b.broker.connectedClients(), [{ kind: 'machine', machineId: 1 }])
  await c.endAsync()
  await until(() => downs.length === 1)
  t.match(downs[0], { reason: 'clean', client: { machineId: 1 } })

  const d = await b.connect(M1)
  await until(() => ups.length === 2)
  ;(d.stream as unknown as { destroy(): void }).destroy()
  await until(() => downs.length === 2)
  t.equal(downs[1]!.reason, 'dropped', 'socket closed without DISCONNECT')

  const raw = await silentClient(b.broker.ports.mqtt, { clientId: 'machine_002', username: 'machine_002', password: Buffer.from('s2'), keepalive: 10 })
  await until(() => ups.length === 3)
  raw.resetAndDestroy() // TCP RST: the broker's socket errors with ECONNRESET
  await until(() => downs.length === 3)
  t.match(downs[2], { reason: 'dropped', client: { machineId: 2 } }, 'socket reset is dropped too')

  await b.connect(M1)
  await until(() => ups.length === 4)
  await b.connect({ ...M1, clientId: 'machine_1' }) // the same machine under the other spelling
  await until(() => ups.length === 5 && downs.length === 4)
  t.equal(downs[3]!.reason, 'takeover')
  t.match(b.broker.connectedClients(), [{ machineId: 1, clientId: 'machine_001' }], 'the new connection remains, under one id')
})

t.test('keep-alive expiry is seen within 1.5 x keep-alive', async (t) => {
  const b = await world(t)
  const { ups, downs } = connectionLog(b)
  // Connects with keep-alive 1 s, then goes silent (never pings). Aedes allows 1.5 s ([MQTT-3.1.2-24]).
  const socket = await silentClient(b.broker.ports.mqtt, { clientId: 'machine_001', username: 'machine_001', password: Buffer.from('s1'), keepalive: 1 })
  t.teardown(() => socket.destroy())
  const connackAt = Date.now()
  await until(() => ups.length === 1)
  await until(() => downs.length === 1, 10_000)
  t.equal(downs[0]!.reason, 'keepalive')
  const elapsed = downs[0]!.at - connackAt
  // lower bound: not before the keep-alive; upper: 1.5 s plus a margin for a loaded test machine
  t.ok(elapsed >= 1000 && elapsed <= 1500 + 1500, `offline after ${elapsed} ms (keep-alive 1 s, allowed 1.5 s)`)
})

t.test('closing the broker gives every client one down, reason shutdown', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  await addMachine(dir, 2, 's2')
  await addNode(dir, 'kiosk_interface', 'kiosk', 'ks')
  const b = await startTestBroker(dir)
  t.teardown(() => b.close()) // ends the clients (already closed by then)
  const { ups, downs } = connectionLog(b)
  const clients = [await b.connect(M1), await b.connect(M2), await b.connect(KIOSK)]
  const closed = clients.map((c) => new Promise<void>((r) => c.once('close', () => r())))
  await until(() => ups.length === 3)
  // a socket that never sent CONNECT: closing must not wait for it
  const idle = tcpConnect(b.broker.ports.mqtt, '127.0.0.1')
  idle.on('error', () => {})
  await new Promise((r) => idle.once('connect', r))
  await b.broker.close() // with everyone still connected
  await Promise.all(closed)
  t.pass('every client was disconnected by the broker')
  t.equal(downs.length, 3, 'one down per up')
  t.same(new Set(downs.map((d) => d.reason)), new Set(['shutdown']))
  t.same(b.broker.connectedClients(), [])
})

t.test('each up has exactly one down under churn', async (t) => {
  const b = await world(t)
  const { ups, downs } = connectionLog(b)
  for (let i = 0; i < 5; i++) {
    const c = await b.connect(M1)
    if (i % 2 === 0) await b.connect(M1) // takeover
    ;(c.stream as unknown as { destroy(): void }).destroy()
  }
  await until(() => b.broker.connectedClients().length <= 1 && ups.length - downs.length === b.broker.connectedClients().length)
  await new Promise((r) => setTimeout(r, 200))
  t.equal(ups.length - downs.length, b.broker.connectedClients().length, `ups ${ups.length}, downs ${downs.length}`)
})

/**
 * Issue 15: after a freeze (SIGSTOP/CONT) the kernel hands the hub every CONNECT the dispenser
 * sent meanwhile, each on a socket the dispenser has already closed. Aedes registers such a
 * client anyway (its close raced the connect steps) and never reports it down; and a stale
 * client's own close was called a takeover while the next stale one was authenticating. Both
 * left a machine "online" with nobody behind it.
 */
t.test('CONNECTs on sockets already closed (a backlog after a freeze) leave nobody online', async (t) => {
  const b = await world(t)
  const { ups, downs } = connectionLog(b)
  const live = await b.connect(M1)
  await until(() => ups.length === 1)
  live.end(true)
  await until(() => downs.length === 1)
  for (const rst of [false, true]) {
    const sockets = Array.from({ length: 4 }, () => tcpConnect(b.broker.ports.mqtt, '127.0.0.1'))
    await Promise.all(sockets.map((s) => new Promise((r) => s.once('connect', r))))
    for (const s of sockets) {
      s.on('error', () => {})
      s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'machine_001', username: 'machine_001', password: Buffer.from('s1'), keepalive: 10 }))
      if (rst) s.resetAndDestroy()
      else s.end()
    }
    await until(() => sockets.every((s) => s.closed))
    // every stale socket is closed: whatever came up must have gone down again
    await until(() => ups.length === downs.length, 5000, `ups ${ups.length} = downs ${downs.length}`)
    t.same(b.broker.connectedClients(), [], `nobody connected after stale CONNECTs (${rst ? 'reset' : 'closed'})`)
    t.not(downs.at(-1)!.reason, 'takeover', 'the last stale connection went down for itself, not for a successor')
  }
  // and a real connection afterwards is seen as usual
  await b.connect(M1)
  await until(() => b.broker.connectedClients().length === 1)
  t.equal(ups.length - downs.length, 1)
})
