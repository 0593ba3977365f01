/**
 * A hub publish nobody would receive is dropped before Aedes (silent-topics.ts, issue 17), and
 * nothing anyone subscribed to is ever lost by it: live subscribers, wildcard subscribers,
 * persistent sessions while offline, hub-side observers and retained messages.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { createSilentTopics } from '../../src/broker/silent-topics.js'
import { until } from './raw.js'
import { ADMIN, KIOSK, world } from './world.js'

const turn = () => new Promise((resolve) => setImmediate(resolve))

t.test('bookkeeping: silent only after a lookup found no one, and only until subscriptions change', async (t) => {
  const live = new Set<string>()
  const stored = new Set<string>()
  let canTell = true
  let hold: (() => void) | null = null
  const s = createSilentTopics({
    live: (topic) => (canTell ? live.has(topic) : undefined),
    stored: async (topic) => {
      if (hold === null) return stored.has(topic)
      await new Promise<void>((resolve) => (hold = resolve))
      return stored.has(topic)
    },
    observed: (topic) => topic === 'watched',
  })
  t.notOk(s.isSilent('internal/admin'), 'unknown: published')
  s.learn('internal/admin')
  await turn()
  t.ok(s.isSilent('internal/admin'), 'no subscriber of any kind: silent')
  s.changed()
  t.notOk(s.isSilent('internal/admin'), 'a change: published again')
  live.add('internal/admin')
  s.learn('internal/admin')
  await turn()
  t.notOk(s.isSilent('internal/admin'), 'a live subscriber')
  s.changed()
  live.clear()
  stored.add('internal/admin')
  s.learn('internal/admin')
  await turn()
  t.notOk(s.isSilent('internal/admin'), 'a persistent session (offline) subscribed')
  s.learn('watched')
  await turn()
  t.notOk(s.isSilent('watched'), 'a hub-side observer')
  canTell = false
  s.learn('internal/kiosk')
  await turn()
  t.notOk(s.isSilent('internal/kiosk'), 'the broker cannot tell: never dropped')
  canTell = true
  // a change while the lookup runs: the lookup may have missed the new subscriber
  hold = () => undefined
  s.learn('internal/x')
  await turn()
  const release = hold
  hold = null
  s.changed()
  release()
  await turn()
  t.notOk(s.isSilent('internal/x'), 'a change during the lookup: not silent')
  s.learn('internal/x')
  await turn()
  t.ok(s.isSilent('internal/x'), 'asked again after the change: silent')
})

t.test('the real broker: nothing subscribed is lost, whoever subscribes and however', async (t) => {
  const b = await world(t)
  // nobody listens: the first publish learns it, the following ones are dropped
  for (let i = 0; i < 3; i++) {
    await b.broker.publish('internal/admin', { n: i }, { qos: 1 })
    await turn()
  }

  const admin = await b.connect({ ...ADMIN, clean: true })
  const got: string[] = []
  admin.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`))
  await admin.subscribeAsync('internal/admin', { qos: 1 })
  await b.broker.publish('internal/admin', { n: 'live' }, { qos: 1 })
  await until(() => got.length === 1, 5000, 'the live subscriber gets it')
  t.same(got, ['internal/admin {"n":"live"}'])

  // the subscriber leaves: silent again after one publish; a wildcard subscriber brings it back
  admin.end(true)
  await until(() => !admin.connected, 5000, 'admin gone')
  await b.broker.publish('internal/admin', { n: 'nobody' }, { qos: 1 })
  await turn()
  await b.broker.publish('internal/admin', { n: 'nobody again' }, { qos: 1 })
  const tool = await b.connect({ ...ADMIN, clientId: 'admin-tool', clean: true })
  const seen: string[] = []
  tool.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`))
  await tool.subscribeAsync('internal/#', { qos: 1 })
  await b.broker.publish('internal/admin', { n: 'wildcard' }, { qos: 1 })
  await until(() => seen.length === 1, 5000, 'the wildcard subscriber gets it')
  t.same(seen, ['internal/admin {"n":"wildcard"}'])
  tool.end(true)
  await until(() => !tool.connected, 5000, 'tool gone')

  // a persistent session, offline: its QoS 1 messages are queued, never dropped
  const kiosk = await b.connect({ ...KIOSK, clean: false })
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  kiosk.end(true)
  await until(() => !kiosk.connected, 5000, 'kiosk offline')
  for (let i = 0; i < 3; i++) {
    await b.broker.publish('internal/kiosk', { n: `queued ${i}` }, { qos: 1 })
    await turn()
  }
  const queued: string[] = []
  // listening before the CONNACK: the queued messages follow it at once
  const again = mqtt.connect(b.url, { ...KIOSK, clean: false, reconnectPeriod: 0 })
  again.on('message', (topic, payload) => queued.push(`${topic} ${payload.toString()}`))
  t.teardown(() => again.end(true))
  await until(() => queued.length === 3, 5000, 'the three queued messages on reconnect')
  t.same(queued, [0, 1, 2].map((i) => `internal/kiosk {"n":"queued ${i}"}`))
})

t.test('the real broker: a hub-side observer and a retained message are never dropped', async (t) => {
  const b = await world(t)
  await b.broker.publish('internal/reservation', { n: 0 }, { qos: 1 })
  await turn()
  const observed: string[] = []
  b.broker.onPublish!('internal/#', (m) => observed.push(`${m.topic} ${m.payload.toString()}`))
  await b.broker.publish('internal/reservation', { n: 'observed' }, { qos: 1 })
  await until(() => observed.length === 1, 5000, 'the observer sees it')
  t.same(observed, ['internal/reservation {"n":"observed"}'])

  await b.broker.publish('internal/board', { n: 0 }, { qos: 0 })
  await turn()
  await b.broker.publish('internal/board', { n: 'retained' }, { qos: 1, retain: true })
  const admin = await b.connect({ ...ADMIN, clean: true })
  const got: string[] = []
  admin.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`))
  await admin.subscribeAsync('internal/board', { qos: 1 })
  await until(() => got.length === 1, 5000, 'the retained message reaches a later subscriber')
  t.same(got, ['internal/board {"n":"retained"}'])
})
