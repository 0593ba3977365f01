import t from 'tap'
import mqtt from 'mqtt'
import { addNode, startTestBroker } from '../helpers/broker.js'

t.test('a retained QoS 1 message survives closing and re-creating the broker on the same data dir', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'admin_portal', 'admin', 'as')
  const first = await startTestBroker(dir)
  await first.broker.publish('internal/admin', { kept: true }, { qos: 1, retain: true })
  await first.close()
  const second = await startTestBroker(dir)
  t.teardown(() => second.close())
  const admin = await second.connect({ clientId: 'a', username: 'admin_portal', password: 'as' })
  const got = new Promise<string>((r) => admin.once('message', (_t, p) => r(p.toString())))
  await admin.subscribeAsync('internal/admin', { qos: 1 })
  t.same(JSON.parse(await got), { kept: true })
})

t.test('a QoS 1 message for an offline persistent session is delivered after a broker restart', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'golf_app', 'reservation', 'gs')
  const login = { clientId: 'golf-1', username: 'golf_app', password: 'gs', clean: false }
  const first = await startTestBroker(dir)
  const app = await first.connect(login)
  await app.subscribeAsync('internal/golf_app', { qos: 1 })
  await app.endAsync()
  await first.broker.publish('internal/golf_app', { queued: 1 }, { qos: 1 })
  await first.close()
  const second = await startTestBroker(dir)
  t.teardown(() => second.close())
  // listen before CONNACK: the queued message may come in the same TCP segment
  const client = mqtt.connect(second.url, { reconnectPeriod: 0, ...login })
  t.teardown(() => client.end(true))
  const got = await new Promise<string>((resolve) => client.once('message', (_t, p) => resolve(p.toString())))
  t.same(JSON.parse(got), { queued: 1 })
})
