/**
 * Issue 10 defect 7: any node could take over another node's client id ([MQTT-3.1.4-2] makes the
 * broker close the older connection): a kiosk disconnected the admin console. Now a client id held
 * by another login is refused with CONNACK 2 (identifier rejected), as machine ids already were;
 * the same node reconnecting may still take over its own.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { addNode } from '../helpers/broker.js'
import { startHubProcess } from '../helpers/hub-process.js'

t.test('a kiosk cannot knock the admin console off by using its client id', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'admin_portal', 'admin', 'as')
  await addNode(dir, 'kiosk_interface', 'kiosk', 'ks')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'admin-token-node-takeover' })
  t.teardown(() => hub.kill())
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`
  const admin = await mqtt.connectAsync(url, { clientId: 'admin-console', username: 'admin_portal', password: 'as', reconnectPeriod: 0 })
  let adminClosed = false
  admin.on('close', () => (adminClosed = true))

  const error = await mqtt
    .connectAsync(url, { clientId: 'admin-console', username: 'kiosk_interface', password: 'ks', reconnectPeriod: 0 })
    .then((c) => (c.end(true), undefined), (e: Error & { code?: number }) => e)
  t.equal(error?.code, 2, 'CONNACK 2: identifier rejected')
  // a round trip on the admin connection: had it been taken over, it would be closed by now
  await admin.subscribeAsync('internal/admin', { qos: 1 })
  t.ok(admin.connected && !adminClosed, 'the admin console is still connected')

  const replaced = new Promise<void>((r) => admin.once('close', () => r()))
  const again = await mqtt.connectAsync(url, { clientId: 'admin-console', username: 'admin_portal', password: 'as', reconnectPeriod: 0 })
  await replaced
  t.ok(again.connected, 'the admin node itself may take over its own client id')
  await again.endAsync(true)
})
