/**
 * Issue 10 defect 3: pre-auth memory exhaustion. A CONNECT claiming a 256 MB remaining length,
 * followed by junk, grew the hub's RSS by what was sent (4 x 250 MB -> +800 MB), never returned:
 * Aedes buffers a packet until its announced length has arrived. Now each packet's fixed header is
 * read on the socket (DESIGN §9, HUB_MQTT_MAX_PACKET, 64 KiB by default) and a bigger one closes
 * the connection before its body is buffered, on the TCP and the MQTT-over-WebSocket listener.
 */
import { readFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import t from 'tap'
import mqtt from 'mqtt'
import { WebSocket } from 'ws'
import { addMachine } from '../helpers/broker.js'
import { freePort } from '../helpers/free-port.js'
import { startHubProcess } from '../helpers/hub-process.js'

const ADMIN = 'admin-token-oversized-packet'
const CLAIM_256_MB = Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]) // CONNECT, remaining length 268,435,455
const MB = 1024 * 1024

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024
}

/** Sends the 256 MB claim and then junk until the hub closes the socket; resolves with the bytes it took. */
function attackTcp(port: number, junkMb: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1')
    let written = 0
    const chunk = Buffer.alloc(MB, 0x41)
    socket.on('error', () => {})
    socket.on('close', () => resolve(written))
    socket.on('connect', () => {
      socket.write(CLAIM_256_MB)
      const pump = () => {
        while (written < junkMb * MB && !socket.destroyed) {
          written += chunk.length
          if (!socket.write(chunk)) return socket.once('drain', pump)
        }
        socket.end()
      }
      pump()
    })
  })
}

t.test('a 256 MB CONNECT claim is cut off at its header; RSS does not grow', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  const wsPort = await freePort()
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: ADMIN, HUB_MACHINES: '1-5', HUB_MQTT_WS_PORT: String(wsPort) })
  t.teardown(() => hub.kill())
  const pid = hub.child.pid!
  const before = rssMb(pid)

  const taken: number[] = []
  for (let i = 0; i < 4; i++) taken.push(await attackTcp(hub.mqttPort, 250))
  t.ok(taken.every((n) => n < 250 * MB), `each connection closed before 250 MB was taken (${taken.map((n) => (n / MB).toFixed(0)).join(', ')} MB written)`)

  // the same claim over MQTT-over-WebSocket
  const ws = new WebSocket(`ws://127.0.0.1:${wsPort}`, 'mqtt')
  await new Promise((r) => ws.once('open', r))
  const wsClosed = new Promise((r) => ws.once('close', r))
  ws.on('error', () => {})
  ws.send(CLAIM_256_MB)
  for (let i = 0; i < 16 && ws.readyState === WebSocket.OPEN; i++) ws.send(Buffer.alloc(32 * 1024, 0x41))
  await wsClosed
  t.pass('the WebSocket listener closed it too')

  const after = rssMb(pid)
  t.comment(`hub RSS before ${before.toFixed(1)} MB, after 4 x 256 MB claims ${after.toFixed(1)} MB (was +800 MB)`)
  t.ok(after - before < 20, `RSS grew ${(after - before).toFixed(1)} MB`)

  const metrics = await (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
  t.match(metrics, /dispenser_mqtt_closed_connections_total\{reason="packet_too_large"\} 5/, 'counted')
  const m1 = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'machine_001', username: 'machine_001', password: 's1', keepalive: 10, reconnectPeriod: 0 })
  t.ok(m1.connected, 'a dispenser still connects')
  await m1.endAsync(true)
})

t.test('HUB_MQTT_MAX_PACKET sets the limit', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: ADMIN, HUB_MACHINES: '1-5', HUB_MQTT_MAX_PACKET: '2048' })
  t.teardown(() => hub.kill())
  const m1 = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'machine_001', username: 'machine_001', password: 's1', keepalive: 10, reconnectPeriod: 0 })
  await m1.publishAsync('external/handler', JSON.stringify({ machine_id: 1, status: 'idle', firmware: 'x'.repeat(1000) }), { qos: 1 })
  t.ok(m1.connected, 'under 2048 bytes passes')
  const closed = new Promise<void>((r) => m1.once('close', () => r()))
  m1.publish('external/handler', JSON.stringify({ machine_id: 1, status: 'idle', pad: 'x'.repeat(3000) }), { qos: 1 })
  await closed
  t.pass('a 3 KB packet closed the connection')
})
