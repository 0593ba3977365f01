/**
 * Issue 10 defect 1: names inherited from Object.prototype. `{"token":"dh_constructor_" + 43 x "A"}`
 * on /api/live threw in verifyApiToken (`tokens[name]` found `constructor`) and killed the process;
 * as a REST bearer it gave 500; MQTT usernames `constructor` / `__proto__` gave CONNACK 5 and a
 * logged TypeError. Now every lookup is a Map or own-property check: such a name is just unknown.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { WebSocket } from 'ws'
import { addNode } from '../helpers/broker.js'
import { startHubProcess } from '../helpers/hub-process.js'

const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty']

t.test('inherited names as API token, WebSocket token and MQTT username are unknown, cleanly', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'kiosk_interface', 'kiosk', 'ks')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'admin-token-inherited-names' })
  t.teardown(() => hub.kill())
  const http = `http://127.0.0.1:${hub.httpPort}`

  for (const name of INHERITED) {
    const token = `dh_${name}_${'A'.repeat(43)}`
    const res = await fetch(`${http}/api/sessions`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(res.status, 401, `REST bearer ${name}: 401, not 500`)

    const ws = new WebSocket(`ws://127.0.0.1:${hub.httpPort}/api/live`)
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    ws.send(JSON.stringify({ token }))
    t.not(await closed, 1006, `WebSocket token ${name}: refused with a close frame, not a dead process`)

    const error = await mqtt
      .connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: `c-${name}`, username: name, password: 'x', reconnectPeriod: 0 })
      .then((c) => (c.end(true), undefined), (e: Error & { code?: number }) => e)
    t.equal(error?.code, 4, `MQTT username ${name}: CONNACK 4 (bad username or password)`)
  }

  t.equal(hub.child.exitCode, null, 'the hub is still running')
  const health = await fetch(`${http}/api/health`)
  t.equal(health.status, 200)
  const typeErrors = hub.logs.filter((l) => JSON.stringify(l).includes('TypeError'))
  t.same(typeErrors, [], 'no TypeError logged')
  const good = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'k1', username: 'kiosk_interface', password: 'ks', reconnectPeriod: 0 })
  t.ok(good.connected, 'a real node still logs in')
  await good.endAsync(true)
})
