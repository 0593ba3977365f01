/**
 * Issue 10 defect 2: a kiosk token POSTed `session_id: 9007199254740991`; later bookings all got
 * id 2^53 and each replaced the previous one (every one answered 201), across a restart and across
 * kiosks; over MQTT `session_id: 99999` moved the allocator too. Now ids are the hub's: bounded,
 * never chosen by a client for a new session, a create never replaces one, only the owner (or an
 * admin) changes a session, and a retry after a lost reply is made safe by Idempotency-Key (HTTP)
 * and (origin, exchange_id) (MQTT), remembered across kill -9.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { addApiToken } from '../helpers/api-token.js'
import { addNode } from '../helpers/broker.js'
import { nextMessage } from '../helpers/hub.js'
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js'

// Two hub starts (kill -9 in between): on a loaded CI machine this file may need more than the default 120 s.
t.setTimeout(300_000)

t.test('clients cannot choose, push or overwrite session ids; retries are idempotent across kill -9', async (t) => {
  const dir = t.testdir()
  const kiosk1 = addApiToken(dir, 'kiosk1', 'kiosk')
  const kiosk2 = addApiToken(dir, 'kiosk2', 'kiosk')
  await addNode(dir, 'kiosk_mqtt', 'kiosk', 'secret-m')
  const env = { HUB_DATA_DIR: dir, HUB_MACHINES: '1-10', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'admin-token-for-the-id-test' }
  let hub: HubProcess = await startHubProcess(env)
  t.teardown(() => hub.kill())
  const start = Math.floor(Date.now() / 1000) + 2 * 3600
  const post = (token: string, body: object, key?: string) =>
    fetch(`http://127.0.0.1:${hub.httpPort}/api/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key && { 'idempotency-key': key }) },
      body: JSON.stringify(body),
    })
  const booking = (bay: number) => ({ machine_id: bay, status: 'reserved', start_time: start, duration: 1800 })

  const huge = await post(kiosk1, { ...booking(1), session_id: 9007199254740991 })
  t.equal(huge.status, 400, 'an id above 2^31-1 is refused')
  t.match(await huge.json(), { message: /^body\.session_id: must be <= 2147483647$/ })
  const chosen = await post(kiosk1, { ...booking(1), session_id: 99999 })
  t.equal(chosen.status, 404, 'an unknown id never creates')
  t.match(await chosen.json(), { error: 'SESSION_NOT_FOUND', message: 'session_id: session 99999 does not exist; omit session_id to create one' })

  const first = await post(kiosk1, booking(1), 'attempt-1')
  t.equal(first.status, 201)
  const a = (await first.json()) as { session_id: number }
  t.equal(a.session_id, 1, 'the hub assigned the first id: nothing moved the allocator')
  const second = await post(kiosk2, booking(2))
  const b = (await second.json()) as { session_id: number }
  t.equal(b.session_id, 2, 'the next booking gets the next id, not the first one again')
  const takeover = await post(kiosk2, { ...booking(3), session_id: a.session_id })
  t.equal(takeover.status, 403, "another kiosk cannot change the first kiosk's session")

  const url = `mqtt://127.0.0.1:${hub.mqttPort}`
  let node = await mqtt.connectAsync(url, { clientId: 'km', username: 'kiosk_mqtt', password: 'secret-m', reconnectPeriod: 0 })
  await node.subscribeAsync('internal/kiosk_mqtt', { qos: 1 })
  const ask = async (client: mqtt.MqttClient, body: Record<string, unknown> & { exchange_id: number }) => {
    const reply = nextMessage(client, 'internal/kiosk_mqtt', (m) => m.exchange_id === body.exchange_id)
    await client.publishAsync('internal/manager', JSON.stringify(body), { qos: 1 })
    return reply
  }
  t.match(await ask(node, { ...booking(4), session_id: 99999, exchange_id: 1 }), { success: false, message: 'session_id: session 99999 does not exist; omit session_id to create one' }, 'MQTT: the same rule')
  const viaMqtt = await ask(node, { ...booking(4), exchange_id: 2 })
  t.match(viaMqtt, { success: true, session_id: 3 }, 'MQTT: the allocator did not move either')
  await node.endAsync(true)

  // kill -9: the keys and the sessions they answered were written in one synced batch.
  await hub.kill('SIGKILL')
  hub = await startHubProcess(env)
  const retry = await post(kiosk1, booking(1), 'attempt-1')
  t.equal(retry.status, 201, 'the retry after a lost reply gets the first answer, after a restart too')
  t.same(await retry.json(), a)
  const reused = await post(kiosk1, booking(5), 'attempt-1')
  t.equal(reused.status, 422, 'the same key for another booking is refused naming the key')
  t.match(await reused.json(), { error: 'IDEMPOTENCY_KEY_REUSED', message: /^Idempotency-Key: attempt-1 / })
  node = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'km', username: 'kiosk_mqtt', password: 'secret-m', reconnectPeriod: 0 })
  t.teardown(() => node.endAsync(true))
  await node.subscribeAsync('internal/kiosk_mqtt', { qos: 1 })
  t.match(await ask(node, { ...booking(4), exchange_id: 2 }), { success: true, session_id: 3 }, 'MQTT: the retry of exchange_id 2 is answered again, not booked again')
  t.match(await ask(node, { ...booking(6), exchange_id: 2 }), { success: false, message: /^exchange_id: 2 was used for another request/ })

  const all = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/sessions?date=${new Date(start * 1000).toISOString().slice(0, 10)}`, { headers: { authorization: 'Bearer admin-token-for-the-id-test' } })).json()) as Array<{ session_id: number; machine_id: number[]; origin_node: string }>
  t.same(all.map((s) => [s.session_id, s.machine_id, s.origin_node]).sort(), [[1, [1], 'kiosk1'], [2, [2], 'kiosk2'], [3, [4], 'kiosk_mqtt']], 'three sessions, none replaced, each with its owner')
})
