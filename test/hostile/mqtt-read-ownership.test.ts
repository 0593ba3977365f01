/**
 * Issue 10 defect 10: MQTT reads skipped the ownership REST enforces. A kiosk read another
 * kiosk's session with a `session` Request, and kiosk nodes got every machine's state from
 * internal/handler. Both doors now ask the same rule (protocol/access.ts).
 */
import t from 'tap'
import mqtt from 'mqtt'
import { addMachine, addNode } from '../helpers/broker.js'
import { nextMessage } from '../helpers/hub.js'
import { startHubProcess } from '../helpers/hub-process.js'

t.test("a kiosk reads only its own sessions and no machine state over MQTT; the owner and admins still can", async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'kiosk1', 'kiosk', 'secret-1')
  await addNode(dir, 'kiosk2', 'kiosk', 'secret-2')
  await addNode(dir, 'console', 'admin', 'secret-a')
  await addMachine(dir, 3, 'secret-3')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_MACHINES: '1-5', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'admin-token-for-the-read-test' })
  t.teardown(() => hub.kill())
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`
  const login = (clientId: string, username: string, password: string) => mqtt.connectAsync(url, { clientId, username, password, reconnectPeriod: 0 })
  const k1 = await login('k1', 'kiosk1', 'secret-1')
  const k2 = await login('k2', 'kiosk2', 'secret-2')
  const admin = await login('console-1', 'console', 'secret-a')
  const m3 = await mqtt.connectAsync(url, { clientId: 'machine_003', username: 'machine_003', password: 'secret-3', keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => Promise.all([k1, k2, admin, m3].map((c) => c.endAsync(true))))
  await k1.subscribeAsync('internal/kiosk1', { qos: 1 })
  await k2.subscribeAsync('internal/kiosk2', { qos: 1 })
  await admin.subscribeAsync('internal/console', { qos: 1 })
  await m3.publishAsync('external/handler', JSON.stringify({ machine_id: 3, status: 'idle', ball_level: 'full', ip_address: '192.168.4.3' }), { qos: 1 })

  const booked = nextMessage(k1, 'internal/kiosk1', (m) => m.exchange_id === 1)
  await k1.publishAsync('internal/manager', JSON.stringify({ machine_id: 2, status: 'reserved', duration: 600, start_time: Date.now() / 1000 + 3600, exchange_id: 1 }), { qos: 1 })
  const confirmation = await booked
  t.match(confirmation, { success: true, status: 'reserved' })
  const id = confirmation.session_id as number

  const ask = async (client: mqtt.MqttClient, reply: string, topic: string, request: object) => {
    const answer = nextMessage(client, reply, (m) => m.request_id === (request as { request_id: number }).request_id)
    await client.publishAsync(topic, JSON.stringify(request), { qos: 1 })
    return answer
  }

  const stolen = await ask(k2, 'internal/kiosk2', 'internal/manager', { request_type: 'session', session_id: id, request_id: 10 })
  t.match(stolen, { success: false, session_id: id, message: `session_id: session ${id} belongs to kiosk1` }, 'another kiosk is refused as GET /api/sessions/:id refuses it')
  t.notOk('start_time' in stolen || 'machine_id' in stolen, 'and learns nothing of the session')
  t.match(await ask(k1, 'internal/kiosk1', 'internal/manager', { request_type: 'session', session_id: id, request_id: 11 }), { session_id: id, origin_node: 'schedule_manager', machine_id: [2], status: 'reserved' }, 'the owner reads it')
  t.match(await ask(admin, 'internal/console', 'internal/manager', { request_type: 'session', session_id: id, request_id: 12 }), { session_id: id, machine_id: [2] }, 'an admin reads it')

  for (const [i, request] of [{ request_type: 'machine' }, { request_type: 'machine', machine_id: 3 }].entries()) {
    const answer = await ask(k2, 'internal/kiosk2', 'internal/handler', { ...request, request_id: 20 + i })
    t.match(answer, { success: false, message: /^request_type: role kiosk may not read machine state \(needs admin\b/ }, `kiosk machine read ${i + 1} refused`)
    t.notOk('machines' in answer || 'ip_address' in answer, 'no machine state leaks')
  }
  const all = await ask(admin, 'internal/console', 'internal/handler', { request_type: 'machine', request_id: 30 })
  t.equal((all.machines as unknown[]).length, 5, 'an admin gets every machine')

  // The same rule on the HTTP door: a kiosk has no machine route either.
  const health = await fetch(`http://127.0.0.1:${hub.httpPort}/api/health`)
  t.equal(health.status, 200)
})
