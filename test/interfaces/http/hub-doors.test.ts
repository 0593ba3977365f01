/**
 * One booking rule, two doors (DESIGN §4, §6): against the whole hub (src/hub.ts) with the real
 * Aedes broker, a real MQTT client and real HTTP, a booking made over HTTP is seen over MQTT
 * and one made over MQTT is seen (and conflicts) over HTTP.
 */
import t from 'tap'
import mqtt, { type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { loadConfig } from '../../../src/config/index.js'
import { createHub } from '../../../src/hub.js'
import { apiTokenEntry, credentialsPath, emptyCredentials, hashSecret, newApiToken, writeCredentials } from '../../../src/broker/credentials.js'
import type { Role } from '../../../src/protocol/identity.js'
import { Topics } from '../../../src/protocol/topics.js'

const WAIT_MS = 15_000 // real sockets on a shared 2-core machine: generous

interface Inbox {
  client: MqttClient
  next(topic: string, match: (p: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>
}

async function connectNode(port: number, node: string, password: string, topics: string[]): Promise<Inbox> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: node, username: node, password, clean: true, reconnectPeriod: 0 })
  const seen: Array<{ topic: string; payload: Record<string, unknown> }> = []
  const waiters = new Set<() => void>()
  client.on('message', (topic, payload) => {
    seen.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown> })
    for (const w of waiters) w()
  })
  await client.subscribeAsync(topics, { qos: 1 })
  return {
    client,
    next(topic, match) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = seen.find((m) => m.topic === topic && match(m.payload))
          if (!found) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found.payload)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no message on ${topic} within ${WAIT_MS} ms; saw ${JSON.stringify(seen.map((m) => m.topic))}`))
        }, WAIT_MS)
        waiters.add(check)
        check()
      })
    },
  }
}

t.test('a booking made over HTTP is seen over MQTT and vice versa', async (t) => {
  const dir = t.testdir()
  // What the CLI would write: an MQTT node and an API token, both named kiosk_interface.
  const secrets: Record<string, { password: string; role: Role }> = {
    kiosk_interface: { password: 'kiosk-secret-1234567890', role: 'kiosk' },
    admin_portal: { password: 'admin-secret-1234567890', role: 'admin' },
  }
  const file = emptyCredentials()
  for (const [name, { password, role }] of Object.entries(secrets)) file.nodes[name] = { ...(await hashSecret(password)), role }
  const kioskToken = newApiToken('kiosk_interface')
  file.tokens.kiosk_interface = apiTokenEntry(kioskToken, 'kiosk')
  writeCredentials(credentialsPath(dir), file)

  const config = loadConfig({
    HUB_DATA_DIR: dir, HUB_MQTT_PORT: '0', HUB_HTTP_PORT: '0', HUB_MACHINES: '1-20', HUB_TIMEZONE: 'UTC', HUB_LOG_LEVEL: 'silent',
  })
  const hub = await createHub({ config, log: pino({ level: 'silent' }) })
  t.teardown(() => hub.close())
  const kiosk = await connectNode(hub.ports.mqtt, 'kiosk_interface', secrets.kiosk_interface!.password, [Topics.kiosk])
  const admin = await connectNode(hub.ports.mqtt, 'admin_portal', secrets.admin_portal!.password, [Topics.admin])
  t.teardown(() => Promise.all([kiosk.client.endAsync(), admin.client.endAsync()]))
  const http = (method: string, path: string, body?: object) =>
    fetch(`http://127.0.0.1:${hub.ports.http}${path}`, {
      method,
      headers: { authorization: `Bearer ${kioskToken}`, ...(body && { 'content-type': 'application/json' }) },
      ...(body && { body: JSON.stringify(body) }),
    })
  const soon = Math.floor(Date.now() / 1000) + 3600

  // HTTP door -> MQTT
  const res = await http('POST', '/api/sessions', { machine_id: [3, 4], status: 'reserved', start_time: soon, duration: 1800 })
  t.equal(res.status, 201)
  const made = (await res.json()) as { session_id: number; origin_node: string }
  t.equal(made.origin_node, 'kiosk_interface', 'the token name owns the session')
  const toOwner = await kiosk.next(Topics.kiosk, (p) => p.session_id === made.session_id)
  t.match(toOwner, { change: 'created', machine_id: [3, 4], status: 'reserved' }, 'the owner node hears of it on internal/kiosk')
  t.match(await admin.next(Topics.admin, (p) => p.session_id === made.session_id), { machine_id: [3, 4] }, 'and internal/admin')

  // The same rule on the MQTT door: a clash with the HTTP booking is refused naming it.
  await kiosk.client.publishAsync(
    Topics.manager,
    JSON.stringify({ machine_id: 4, status: 'reserved', start_time: soon + 600, duration: 600, origin_node: 'kiosk_interface', exchange_id: 71 }),
    { qos: 1 },
  )
  const refused = await kiosk.next(Topics.kiosk, (p) => p.exchange_id === 71)
  t.equal(refused.success, false)
  t.match(refused.message, new RegExp(String(made.session_id)), 'names the HTTP session')

  // MQTT door -> HTTP
  await kiosk.client.publishAsync(
    Topics.manager,
    JSON.stringify({ machine_id: [7, 8], status: 'reserved', start_time: soon, duration: 1800, origin_node: 'kiosk_interface', exchange_id: 72 }),
    { qos: 1 },
  )
  const confirmed = await kiosk.next(Topics.kiosk, (p) => p.exchange_id === 72)
  t.match(confirmed, { success: true })
  const id = confirmed.session_id as number
  const got = await http('GET', `/api/sessions/${id}`)
  t.equal(got.status, 200)
  t.match(await got.json(), { session_id: id, machine_id: [7, 8], origin_node: 'kiosk_interface' })
  const clash = await http('POST', '/api/sessions', { machine_id: 8, status: 'reserved', start_time: soon + 300, duration: 600 })
  t.equal(clash.status, 409)
  t.match(await clash.json(), { error: 'SESSION_CONFLICT', message: new RegExp(String(id)) })

  // The owner extends its MQTT booking over HTTP; MQTT hears the update.
  const patched = await http('PATCH', `/api/sessions/${id}`, { duration: 3600 })
  t.equal(patched.status, 200)
  t.match(await kiosk.next(Topics.kiosk, (p) => p.session_id === id && p.change === 'updated'), { duration: 3600 })
})
