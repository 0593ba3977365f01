/**
 * Issue 10 defect 11: a publish refused by the ACL got no Confirmation, although the README
 * promises one naming the problem. Now the sender gets `{"success": false, "message"}` on its own
 * reply topic (a node's internal/..., a dispenser's external/machine/N), echoing exchange_id /
 * request_id, and never on a topic the payload names. The refused message still reaches nobody.
 */
import t from 'tap'
import mqtt, { type MqttClient } from 'mqtt'
import { addMachine, addNode } from '../helpers/broker.js'
import { startHubProcess } from '../helpers/hub-process.js'

const collect = (client: MqttClient) => {
  const got: Array<{ topic: string; body: Record<string, unknown> }> = []
  client.on('message', (topic, p) => got.push({ topic, body: JSON.parse(p.toString()) as Record<string, unknown> }))
  return got
}
const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 250 && !cond(); i++) await new Promise((r) => setTimeout(r, 20))
  if (!cond()) throw new Error(`${what} did not arrive`)
}

t.test('ACL refusals are answered on the sender\'s reply topic, naming the problem', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  await addNode(dir, 'kiosk_interface', 'kiosk', 'ks')
  await addNode(dir, 'kiosk2', 'kiosk', 'k2')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'admin-token-acl-reply', HUB_MACHINES: '1-5' })
  t.teardown(() => hub.kill())
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`
  const kiosk = await mqtt.connectAsync(url, { clientId: 'k1', username: 'kiosk_interface', password: 'ks', reconnectPeriod: 0 })
  const other = await mqtt.connectAsync(url, { clientId: 'k2', username: 'kiosk2', password: 'k2', reconnectPeriod: 0 })
  const m1 = await mqtt.connectAsync(url, { clientId: 'machine_001', username: 'machine_001', password: 's1', keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => Promise.all([kiosk.endAsync(true), other.endAsync(true), m1.endAsync(true)]))
  const kioskGot = collect(kiosk)
  const otherGot = collect(other)
  const machineGot = collect(m1)
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  await other.subscribeAsync('internal/kiosk2', { qos: 1 })
  await m1.subscribeAsync('external/machine/1', { qos: 1 })

  // a kiosk commanding a dispenser directly, while claiming to be kiosk2
  await kiosk.publishAsync('external/machine/1', JSON.stringify({ machine_id: 1, status: 'active', exchange_id: 41, origin_node: 'kiosk2' }), { qos: 1 })
  await until(() => kioskGot.length === 1, 'the kiosk\'s Confirmation')
  t.match(kioskGot[0], {
    topic: 'internal/kiosk',
    body: { success: false, exchange_id: 41, destination_node: 'kiosk_interface', message: /publish to external\/machine\/1 refused: kiosk nodes may publish only to internal\/manager and internal\/handler/ },
  })
  t.notOk(machineGot.some((m) => m.body.status === 'active'), 'the dispenser never saw the command')

  // a dispenser publishing where it may not
  await m1.publishAsync('internal/manager', JSON.stringify({ request_type: 'schedule', request_id: 5 }), { qos: 1 })
  await until(() => machineGot.some((m) => m.body.success === false), 'the dispenser\'s Confirmation')
  t.match(machineGot.find((m) => m.body.success === false), {
    topic: 'external/machine/1',
    body: { request_id: 5, destination_node: 'machine_001', message: /machine 1 may publish only to external\/handler/ },
  })
  t.same(otherGot, [], 'kiosk2, named in the payload, was told nothing')
})
