/**
 * Issue 10 defect 13: retained messages were kept on the hub's inbox topics and replayed to every
 * new subscriber. Now a retained publish to internal/manager, internal/handler or external/handler
 * is refused (acknowledged, dropped, answered with a Confirmation naming the problem), and
 * retained copies left there by an older version are deleted at start.
 */
import t from 'tap'
import mqtt, { type MqttClient } from 'mqtt'
import { addMachine, addNode } from '../helpers/broker.js'
import { startHubProcess } from '../helpers/hub-process.js'

// today in the venue (HUB_TIMEZONE UTC, real clock): a fixed date is refused once it is 400 days away
const TODAY = new Date().toISOString().slice(0, 10)

const nextJson = (client: MqttClient) =>
  new Promise<Record<string, unknown>>((resolve) => client.once('message', (_t, p) => resolve(JSON.parse(p.toString()) as Record<string, unknown>)))

t.test('retain on the inboxes is refused with a Confirmation and nothing is replayed', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 2, 's2')
  await addNode(dir, 'kiosk_interface', 'kiosk', 'ks')
  await addNode(dir, 'admin_portal', 'admin', 'as')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'admin-token-retained', HUB_MACHINES: '1-5' })
  t.teardown(() => hub.kill())
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`

  const kiosk = await mqtt.connectAsync(url, { clientId: 'k1', username: 'kiosk_interface', password: 'ks', reconnectPeriod: 0 })
  t.teardown(() => kiosk.endAsync(true))
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  for (const topic of ['internal/manager', 'internal/handler']) {
    const told = nextJson(kiosk)
    await kiosk.publishAsync(topic, JSON.stringify({ request_id: 1, request_type: 'schedule', date: TODAY }), { qos: 1, retain: true })
    t.match(await told, { success: false, request_id: 1, message: new RegExp(`retain is not allowed on ${topic}`) }, topic)
  }
  const m2 = await mqtt.connectAsync(url, { clientId: 'machine_002', username: 'machine_002', password: 's2', keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => m2.endAsync(true))
  await m2.subscribeAsync('external/machine/2', { qos: 1 })
  const machineTold = new Promise<Record<string, unknown>>((resolve) =>
    m2.on('message', (_t, p) => {
      const m = JSON.parse(p.toString()) as Record<string, unknown>
      if (m.success === false) resolve(m)
    }),
  )
  await m2.publishAsync('external/handler', JSON.stringify({ machine_id: 2, status: 'idle', ball_level: 'full' }), { qos: 1, retain: true })
  t.match(await machineTold, { success: false, message: /retain is not allowed on external\/handler/ })

  // a newcomer on the inboxes gets nothing replayed: the first message it sees is a live one
  const admin = await mqtt.connectAsync(url, { clientId: 'a1', username: 'admin_portal', password: 'as', reconnectPeriod: 0 })
  t.teardown(() => admin.endAsync(true))
  const first = new Promise<{ topic: string; retain: boolean }>((resolve) => admin.once('message', (topic, _p, packet) => resolve({ topic, retain: packet.retain })))
  await admin.subscribeAsync(['internal/manager', 'internal/handler', 'external/handler'], { qos: 1 })
  await kiosk.publishAsync('internal/manager', JSON.stringify({ request_id: 2, request_type: 'schedule', date: TODAY }), { qos: 1 })
  t.same(await first, { topic: 'internal/manager', retain: false }, 'no retained copy came first')
})
