/**
 * Found by the fuzzer (scripts/fuzz, seed 3): `{"machine_id": 13, "release": true}` from a kiosk
 * node on internal/handler, while an admin held bay 13 in maintenance, was answered
 * `success: true, "machine 13 released to the schedule"` although nothing was released. DESIGN §5:
 * the lower-priority request is refused with a message naming what holds the machine.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { addNode } from '../helpers/broker.js'
import { nextMessage } from '../helpers/hub.js'
import { startHubProcess } from '../helpers/hub-process.js'

t.test('a kiosk cannot release an admin hold, and is told who holds the bay', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'admin_portal', 'admin', 'admin-secret')
  await addNode(dir, 'kiosk_interface', 'kiosk', 'kiosk-secret')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_MACHINES: '1-20', HUB_TIMEZONE: 'UTC' })
  t.teardown(() => hub.kill())
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`
  const admin = await mqtt.connectAsync(url, { clientId: 'admin-1', username: 'admin_portal', password: 'admin-secret', reconnectPeriod: 0 })
  t.teardown(() => admin.endAsync(true))
  const kiosk = await mqtt.connectAsync(url, { clientId: 'kiosk-1', username: 'kiosk_interface', password: 'kiosk-secret', reconnectPeriod: 0 })
  t.teardown(() => kiosk.endAsync(true))
  await admin.subscribeAsync('internal/admin', { qos: 1 })
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })

  const held = nextMessage(admin, 'internal/admin', (m) => m.exchange_id === 1)
  await admin.publishAsync('internal/handler', JSON.stringify({ machine_id: 13, status: 'maintenance', origin_node: 'admin_portal', exchange_id: 1 }), { qos: 1 })
  t.match(await held, { success: true, machine_id: 13, status: 'maintenance' })

  const refused = nextMessage(kiosk, 'internal/kiosk', (m) => m.exchange_id === 2)
  await kiosk.publishAsync('internal/handler', JSON.stringify({ machine_id: 13, release: true, origin_node: 'kiosk_interface', exchange_id: 2 }), { qos: 1 })
  t.match(await refused, { success: false, machine_id: 13, message: /held by an admin override \(maintenance\)/ }, 'refused, naming the admin hold')

  const state = nextMessage(admin, 'internal/admin', (m) => m.request_id === 3)
  await admin.publishAsync('internal/handler', JSON.stringify({ request_type: 'machine', machine_id: 13, request_id: 3, origin_node: 'admin_portal' }), { qos: 1 })
  t.match(await state, { machine_id: 13, desired: { status: 'maintenance', source: 'admin' } }, 'the admin hold is still in force')
})
