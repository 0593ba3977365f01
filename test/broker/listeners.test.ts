import t from 'tap'
import { readFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { ADMIN, KIOSK, M1, world } from './world.js'

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

function connectUrl(url: string, options: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options })
    client.once('connect', () => resolve(client))
    client.once('error', (e) => {
      client.end(true)
      reject(e)
    })
  })
}

t.test('MQTT over WebSocket and over TLS reach the same broker, with the same auth', async (t) => {
  const b = await world(t, { HUB_MQTT_WS_PORT: '0', HUB_MQTT_TLS_PORT: '0', HUB_TLS_CERT: fixture('tls-cert.pem'), HUB_TLS_KEY: fixture('tls-key.pem') })
  const { mqtt: tcpPort, ws, tls } = b.broker.ports
  t.ok(tcpPort > 0 && ws !== null && ws > 0 && tls !== null && tls > 0, `ports ${tcpPort} ${ws} ${tls}`)

  const viaWs = await connectUrl(`ws://127.0.0.1:${ws}`, KIOSK)
  t.teardown(() => viaWs.end(true))
  const viaTls = await connectUrl(`mqtts://127.0.0.1:${tls}`, { ...M1, ca: readFileSync(fixture('tls-cert.pem')), servername: 'localhost' })
  t.teardown(() => viaTls.end(true))
  const admin = await b.connect(ADMIN)
  const got: string[] = []
  admin.on('message', (topic, p) => got.push(`${topic} ${p.toString()}`))
  await admin.subscribeAsync(['internal/#', 'external/#'], { qos: 1 })
  await viaWs.publishAsync('internal/manager', JSON.stringify({ origin_node: 'kiosk_interface', n: 1 }), { qos: 1 })
  await viaTls.publishAsync('external/handler', JSON.stringify({ machine_id: 1, n: 2 }), { qos: 1 })
  await new Promise((r) => setTimeout(r, 200))
  t.same(got.sort(), ['external/handler {"machine_id":1,"n":2}', 'internal/manager {"origin_node":"kiosk_interface","n":1}'])
  t.match(String(await connectUrl(`ws://127.0.0.1:${ws}`, { ...KIOSK, password: 'no' }).catch((e: Error) => e)), /Bad username or password/i)
  t.equal(b.broker.connectedClients().length, 3)
})

t.test('listeners bind to the configured host only', async (t) => {
  const b = await world(t, { HUB_MQTT_HOST: '127.0.0.2', HUB_MQTT_WS_PORT: '0' })
  const refused = (port: number, host: string) =>
    new Promise<string>((resolve) => {
      const s = tcpConnect(port, host)
      s.once('connect', () => (s.destroy(), resolve('open')))
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
    })
  t.equal(await refused(b.broker.ports.mqtt, '127.0.0.2'), 'open')
  t.equal(await refused(b.broker.ports.mqtt, '127.0.0.1'), 'ECONNREFUSED', 'TCP not on another address')
  t.equal(await refused(b.broker.ports.ws!, '127.0.0.1'), 'ECONNREFUSED', 'WebSocket not on another address')
  const c = await connectUrl(`mqtt://127.0.0.2:${b.broker.ports.mqtt}`, M1)
  c.end(true)
  t.pass('clients connect on the configured host')
})
