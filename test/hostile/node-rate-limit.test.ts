/**
 * Issue 10 defect 4 (the broker's part): one kiosk node sending 1,000 schedule Requests stalled
 * the hub and knocked dispensers offline. Now each client's publishes to internal/manager and
 * internal/handler pass a token bucket (HUB_MQTT_RATE per second, HUB_MQTT_BURST at once); the
 * excess is acknowledged, dropped and counted, and the client hears about it at most once per
 * interval. Dispensers' external/handler has its own generous bound.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { addMachine, addNode } from '../helpers/broker.js'
import { startHubProcess } from '../helpers/hub-process.js'

// today in the venue (HUB_TIMEZONE UTC, real clock): a fixed date is refused once it is 400 days away
const TODAY = new Date().toISOString().slice(0, 10)

const ADMIN = 'admin-token-node-rate'

t.test('a kiosk flooding internal/manager is cut to its rate; dispensers stay online and unthrottled', async (t) => {
  const dir = t.testdir()
  for (let id = 1; id <= 3; id++) await addMachine(dir, id, `s${id}`)
  await addNode(dir, 'kiosk_interface', 'kiosk', 'ks')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: ADMIN, HUB_MACHINES: '1-20' })
  t.teardown(() => hub.kill())
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`
  const machines = await Promise.all(
    [1, 2, 3].map((id) => mqtt.connectAsync(url, { clientId: `machine_00${id}`, username: `machine_00${id}`, password: `s${id}`, keepalive: 5, reconnectPeriod: 0 })),
  )
  let dropped = 0
  for (const m of machines) m.on('close', () => dropped++)
  const kiosk = await mqtt.connectAsync(url, { clientId: 'k1', username: 'kiosk_interface', password: 'ks', reconnectPeriod: 0 })
  t.teardown(() => Promise.all([kiosk, ...machines].map((c) => c.endAsync(true))))
  const replies: Array<Record<string, unknown>> = []
  kiosk.on('message', (_t, p) => replies.push(JSON.parse(p.toString()) as Record<string, unknown>))
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })

  const started = Date.now()
  const sends = Array.from({ length: 1000 }, (_, i) =>
    kiosk.publishAsync('internal/manager', JSON.stringify({ request_id: i, request_type: 'schedule', date: TODAY }), { qos: 0 }),
  )
  await Promise.all(sends)
  // a QoS 1 round trip after the flood: everything before it has been through the broker
  await kiosk.publishAsync('internal/manager', JSON.stringify({ request_id: 5000, request_type: 'schedule', date: TODAY }), { qos: 1 })
  const elapsedS = (Date.now() - started) / 1000
  const metrics = await (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
  const rateDropped = Number(/dispenser_mqtt_dropped_total\{reason="rate"\} (\d+)/.exec(metrics)?.[1] ?? 0)
  const passed = 1001 - rateDropped
  t.comment(`of 1,001 Requests in ${elapsedS.toFixed(1)} s, ${passed} passed (rate 10/s, burst 30), ${rateDropped} dropped`)
  t.ok(passed >= 30 && passed <= 30 + Math.ceil(elapsedS * 10) + 1, 'the burst plus the rate passed, no more')
  const notices = replies.filter((r) => r.success === false && /rate limited/.test(String(r.message)))
  t.ok(notices.length >= 1 && notices.length <= 1 + Math.ceil(elapsedS / 10), `${notices.length} rate notice(s), at most one per 10 s`)
  t.match(notices[0], { message: /rate limited: at most 10 messages\/s \(burst 30\) to internal\/manager/ })

  // dispensers: 100 reports each at once pass, and none was dropped during the flood
  for (const [i, m] of machines.entries()) {
    for (let n = 0; n < 100; n++) m.publish('external/handler', JSON.stringify({ machine_id: i + 1, status: 'idle', ball_level: 'full' }), { qos: 0 })
    await m.publishAsync('external/handler', JSON.stringify({ machine_id: i + 1, status: 'idle', ball_level: 'full' }), { qos: 1 })
  }
  const after = await (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
  t.equal(Number(/dispenser_mqtt_dropped_total\{reason="rate"\} (\d+)/.exec(after)?.[1] ?? 0), rateDropped, 'no dispenser report was rate-limited')
  t.equal(dropped, 0, 'no dispenser was disconnected')
  t.match(after, /dispenser_machines_online 3/)
})
