/**
 * Issue 10 defect 15: a PUBLISH with an invalid UTF-8 topic or a packet id of 0 (QoS > 0) was
 * accepted; MQTT 3.1.1 says the connection must be closed ([MQTT-1.5.3-1], [MQTT-2.3.1-1]). The
 * packet guard checks both on the wire, before the broker decodes the topic.
 */
import t from 'tap'
import mqtt from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { addMachine } from '../helpers/broker.js'
import { startHubProcess } from '../helpers/hub-process.js'

function publishBytes(topic: Buffer, messageId: number): Buffer {
  const placeholder = 'z'.repeat(topic.length)
  const bytes = mqttPacket.generate({ cmd: 'publish', topic: placeholder, payload: '{}', qos: 1, messageId, retain: false, dup: false })
  topic.copy(bytes, bytes.indexOf(Buffer.from(placeholder)))
  return bytes
}

t.test('an invalid UTF-8 topic or packet id 0 closes the connection; the hub carries on', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  const admin = 'admin-token-publish-protocol'
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: admin, HUB_MACHINES: '1-5' })
  t.teardown(() => hub.kill())
  const connect = () =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'machine_001', username: 'machine_001', password: 's1', keepalive: 10, reconnectPeriod: 0 })
  const cases: Array<[string, Buffer]> = [
    ['invalid UTF-8 topic', publishBytes(Buffer.from([0x65, 0x78, 0xc3, 0x28]), 7)],
    ['topic with U+0000', publishBytes(Buffer.from('external/handler\u0000x'), 8)],
    ['packet id 0', publishBytes(Buffer.from('external/handler'), 0)],
  ]
  for (const [what, bytes] of cases) {
    const m1 = await connect()
    let puback = false
    m1.stream.on('data', (d: Buffer) => (puback ||= d[0] === 0x40))
    const closed = new Promise((r) => m1.stream.once('close', r))
    m1.stream.write(bytes)
    await closed
    t.notOk(puback, `${what}: closed, not acknowledged`)
  }
  const metrics = await (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text()
  t.match(metrics, /reason="bad_topic"\} 2/)
  t.match(metrics, /reason="packet_id_zero"\} 1/)
  const m1 = await connect()
  await m1.publishAsync('external/handler', JSON.stringify({ machine_id: 1, status: 'idle', ball_level: 'full' }), { qos: 1 })
  t.ok(m1.connected, 'a well-formed publish still works')
  await m1.endAsync(true)
})
