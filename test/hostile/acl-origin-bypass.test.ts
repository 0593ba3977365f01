/**
 * Issue 10 defect 9: the ACL skipped payloads not starting with `{` (or over 64 KB) while the
 * adapters still parsed them, so `' {"origin_node":"kiosk2",…}'` from kiosk1 sent the reply to
 * internal/kiosk2. Now the identity check runs on the one parse the adapters use: the claim is
 * refused, the refusal goes to kiosk1's own topic, kiosk2 hears nothing and nothing is booked.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { addNode } from '../helpers/broker.js'
import { nextMessage } from '../helpers/hub.js'
import { startHubProcess } from '../helpers/hub-process.js'

const ADMIN = 'admin-token-for-the-origin-test'

t.test('a spoofed origin_node, however the payload is spelled, is refused to the sender and reaches no one else', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'kiosk1', 'kiosk', 'secret-1')
  await addNode(dir, 'kiosk2', 'kiosk', 'secret-2')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_MACHINES: '1-5', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: ADMIN })
  t.teardown(() => hub.kill())
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`
  const k1 = await mqtt.connectAsync(url, { clientId: 'k1', username: 'kiosk1', password: 'secret-1', reconnectPeriod: 0 })
  const k2 = await mqtt.connectAsync(url, { clientId: 'k2', username: 'kiosk2', password: 'secret-2', reconnectPeriod: 0 })
  t.teardown(() => Promise.all([k1.endAsync(true), k2.endAsync(true)]))
  await k1.subscribeAsync('internal/kiosk1', { qos: 1 })
  await k2.subscribeAsync('internal/kiosk2', { qos: 1 })
  const heardByK2: Array<Record<string, unknown>> = []
  k2.on('message', (_topic, payload) => heardByK2.push(JSON.parse(payload.toString()) as Record<string, unknown>))

  const body = (exchange: number) => `"origin_node":"kiosk2","machine_id":1,"status":"reserved","duration":600,"exchange_id":${exchange}`
  const spellings = [
    ` {${body(1)}}`, // leading space: skipped by the old ACL
    `\r\n\t{${body(2)}}`,
    `{"origin_node":"kiosk1",${body(3)}}`, // duplicate key: JSON.parse keeps the last one
    `{${body(4)},"pad":"${'x'.repeat(60 * 1024)}"}`, // under the 64 KiB packet limit, over the old ACL's lookahead
  ]
  for (const [i, text] of spellings.entries()) {
    const refusal = nextMessage(k1, 'internal/kiosk1', (m) => m.exchange_id === i + 1)
    await k1.publishAsync('internal/manager', text, { qos: 1 })
    t.match(await refusal, { success: false, exchange_id: i + 1, destination_node: 'kiosk1', message: 'origin_node: node kiosk1 may not publish as "kiosk2"' }, `spelling ${i + 1} refused to kiosk1`)
  }

  // kiosk2's own request is answered after the spoofs were handled: by then it heard only its own reply.
  const own = nextMessage(k2, 'internal/kiosk2', (m) => m.request_id === 99)
  await k2.publishAsync('internal/manager', JSON.stringify({ request_type: 'schedule', request_id: 99 }), { qos: 1 })
  await own
  t.same(heardByK2.map((m) => m.request_id ?? m.exchange_id), [99], 'kiosk2 received nothing meant for kiosk1')

  const sessions = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/sessions`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as unknown[]
  t.same(sessions, [], 'nothing was booked')
  t.equal(hub.child.exitCode, null, 'the hub is alive')
})
