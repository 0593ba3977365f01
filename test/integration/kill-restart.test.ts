/**
 * DESIGN §5 "Nothing lost": the hub is killed with SIGKILL (no chance to flush or close) and
 * started again on the same data dir; every confirmed booking and every machine override is there.
 */
import t from 'tap'
import mqtt, { type MqttClient } from 'mqtt'
import { addNode } from '../helpers/broker.js'
import { startHubProcess } from '../helpers/hub-process.js'
import { nextMessage } from '../helpers/hub.js'

async function adminClient(port: number): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `admin-${Date.now()}`, username: 'admin_portal', password: 'pw', reconnectPeriod: 0 })
  await client.subscribeAsync('internal/admin', { qos: 1 })
  return client
}

t.test('confirmed bookings survive kill -9 during a stream of bookings', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'admin_portal', 'admin', 'pw')
  const env = { HUB_DATA_DIR: dir, HUB_MACHINES: '1-20', HUB_TIMEZONE: 'UTC' }
  const first = await startHubProcess(env)
  t.teardown(() => first.kill())
  const client = await adminClient(first.mqttPort)
  const confirmed = new Map<number, number>() // exchange_id -> session_id
  client.on('message', (_topic, payload) => {
    const m = JSON.parse(payload.toString()) as { success?: boolean; exchange_id?: number; session_id?: number }
    if (m.success === true && m.exchange_id !== undefined && m.session_id) confirmed.set(m.exchange_id, m.session_id)
  })
  const base = Math.ceil(Date.now() / 1000 / 3600) * 3600 + 86_400
  let sent = 0
  // Stream bookings (each bay gets back-to-back hours) until 40 are confirmed, then kill mid-stream.
  const stream = setInterval(() => {
    for (let i = 0; i < 5; i++, sent++) {
      const bay = (sent % 20) + 1
      const start = base + Math.floor(sent / 20) * 3600
      client.publish('internal/manager', JSON.stringify({ machine_id: bay, status: 'reserved', start_time: start, duration: 3600, origin_node: 'admin_portal', exchange_id: sent + 1 }), { qos: 1 })
    }
  }, 5)
  while (confirmed.size < 40) await new Promise((r) => setTimeout(r, 5))
  await first.kill('SIGKILL')
  clearInterval(stream)
  client.end(true)
  const confirmedIds = [...confirmed.values()]
  t.ok(confirmedIds.length >= 40, `${confirmedIds.length} bookings confirmed of ${sent} sent before the kill`)

  const second = await startHubProcess(env)
  t.teardown(() => second.kill())
  const check = await adminClient(second.mqttPort)
  t.teardown(() => check.end(true))
  let missing = 0
  for (const [i, sessionId] of confirmedIds.entries()) {
    const reply = nextMessage(check, 'internal/admin', (m) => m.request_id === i + 1)
    check.publish('internal/manager', JSON.stringify({ request_type: 'session', session_id: sessionId, request_id: i + 1, origin_node: 'admin_portal' }))
    const found = await reply
    if (found.session_id !== sessionId || found.status !== 'reserved') missing++
  }
  t.equal(missing, 0, `all ${confirmedIds.length} confirmed bookings found after restart`)
})

t.test('a machine override survives kill -9', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'admin_portal', 'admin', 'pw')
  const env = { HUB_DATA_DIR: dir, HUB_MACHINES: '1-5', HUB_TIMEZONE: 'UTC' }
  const first = await startHubProcess(env)
  t.teardown(() => first.kill())
  const client = await adminClient(first.mqttPort)
  const ok = nextMessage(client, 'internal/admin', (m) => m.exchange_id === 7)
  client.publish('internal/handler', JSON.stringify({ machine_id: 3, status: 'maintenance', origin_node: 'admin_portal', exchange_id: 7 }), { qos: 1 })
  t.match(await ok, { success: true })
  await first.kill('SIGKILL')
  client.end(true)

  const second = await startHubProcess(env)
  t.teardown(() => second.kill())
  const check = await adminClient(second.mqttPort)
  t.teardown(() => check.end(true))
  const reply = nextMessage(check, 'internal/admin', (m) => m.request_id === 1)
  check.publish('internal/handler', JSON.stringify({ request_type: 'machine', machine_id: 3, request_id: 1, origin_node: 'admin_portal' }))
  t.match(await reply, { machine_id: 3, desired: { status: 'maintenance', source: 'admin' } }, 'the override is still in force after restart')
})
