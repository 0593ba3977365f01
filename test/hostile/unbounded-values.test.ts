/**
 * Issue 10 defect 12: `/api/availability?near=1e300` and `/api/schedule?date=9999-12-31` answered
 * 500, `start_time: 1e300` was accepted and `date=2026-02-30` gave 200. Times are now bounded on
 * both doors (schema: epoch ≤ 2^32; booking rule: now − 1 slot … now + 400 days) and dates must
 * exist and lie within 400 days: 400 naming the field on HTTP, a refusal naming it on MQTT, and
 * nothing stored.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { addApiToken } from '../helpers/api-token.js'
import { addNode } from '../helpers/broker.js'
import { nextMessage } from '../helpers/hub.js'
import { startHubProcess } from '../helpers/hub-process.js'

t.test('out-of-range times and impossible dates are refused naming the field on both doors', async (t) => {
  const dir = t.testdir()
  const kiosk = addApiToken(dir, 'kiosk1', 'kiosk')
  await addNode(dir, 'kiosk_mqtt', 'kiosk', 'secret-m')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_MACHINES: '1-5', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'admin-token-for-the-bounds-test' })
  t.teardown(() => hub.kill())
  const base = `http://127.0.0.1:${hub.httpPort}`
  const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${kiosk}` } })
  const nowS = Math.floor(Date.now() / 1000)
  const farS = nowS + 401 * 86_400
  const httpCases: Array<[string, RegExp]> = [
    ['/api/availability?bays=1&minutes=30&near=1e300', /^query\.near: must be <= 4294967296$/],
    [`/api/availability?bays=1&minutes=30&near=${farS}`, /^near: more than 400 days ahead/],
    ['/api/schedule?date=9999-12-31', /^date: "9999-12-31" is more than 400 days from today/],
    ['/api/schedule?date=2026-02-30', /^date: "2026-02-30" does not exist in the calendar$/],
    ['/api/sessions?date=2026-02-30', /^date: "2026-02-30" does not exist in the calendar$/],
  ]
  for (const [path, message] of httpCases) {
    const res = await get(path)
    t.equal(res.status, 400, path)
    t.match(((await res.json()) as { message: string }).message, message, path)
  }
  const post = (body: object) => fetch(`${base}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${kiosk}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const huge = await post({ machine_id: 1, status: 'reserved', start_time: 1e300, duration: 600 })
  t.equal(huge.status, 400)
  t.match(await huge.json(), { message: 'body.start_time: must be <= 4294967296' })
  const far = await post({ machine_id: 1, status: 'reserved', start_time: farS, duration: 600 })
  t.equal(far.status, 400)
  t.match(await far.json(), { message: /^start_time: more than 400 days ahead/ })

  const node = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'km', username: 'kiosk_mqtt', password: 'secret-m', reconnectPeriod: 0 })
  t.teardown(() => node.endAsync(true))
  await node.subscribeAsync('internal/kiosk_mqtt', { qos: 1 })
  const mqttCases: Array<[Record<string, unknown>, RegExp]> = [
    [{ machine_id: 1, status: 'reserved', start_time: 1e300, duration: 600 }, /^start_time: /],
    [{ machine_id: 1, status: 'reserved', start_time: farS, duration: 600 }, /^start_time: more than 400 days ahead/],
    [{ request_type: 'schedule', date: '9999-12-31' }, /^date: "9999-12-31" is more than 400 days from today/],
    [{ request_type: 'schedule', date: '2026-02-30' }, /^date: "2026-02-30" does not exist in the calendar$/],
  ]
  for (const [i, [body, message]] of mqttCases.entries()) {
    const reply = nextMessage(node, 'internal/kiosk_mqtt', (m) => m.exchange_id === i + 1)
    await node.publishAsync('internal/manager', JSON.stringify({ ...body, exchange_id: i + 1 }), { qos: 1 })
    const answer = await reply
    t.equal(answer.success, false, JSON.stringify(body))
    t.match(String(answer.message), message, JSON.stringify(body))
  }

  const admin = { authorization: 'Bearer admin-token-for-the-bounds-test' }
  const today = new Date().toISOString().slice(0, 10)
  t.same(await (await fetch(`${base}/api/sessions?date=${today}`, { headers: admin })).json(), [], 'nothing was booked')
  t.equal((await fetch(`${base}/api/health`)).status, 200)
  t.equal(hub.child.exitCode, null, 'the process is alive')
  t.notOk(hub.logs.some((l) => l.level === 50 && l.msg === 'request failed'), 'no request failed with a 5xx')
})
