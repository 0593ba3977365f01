/**
 * One bridge suite, run against every central broker engine we document (README "Central broker
 * for a chain of ranges"): mosquitto (test/link/bridge.test.ts) and RabbitMQ's MQTT plugin
 * (bridge-rabbitmq.test.ts). The real hub bridges to a broker the test started, with a login per
 * site and an ACL that confines each site to `sites/<its id>/#`. It proves: events arrive under
 * `sites/<site>/` at QoS 1, not retained; topics not listed are not bridged; a site cannot publish
 * under another site's prefix nor subscribe to anything (no way in from the centre); what the hub produced while the central broker was down arrives
 * in order after it is back, up to HUB_BRIDGE_MAX_BACKLOG (what came past it is dropped and
 * counted), and a central consumer with a persistent session loses nothing across the broker's
 * restart.
 */
import type { Test } from 'tap'
import { randomBytes } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'
import { startTestHub, waitFor } from './hub.js'

/** The logins on the central broker: one per site (username = HUB_SITE_ID) and the central consumer. */
export const accounts = {
  venue1: { username: 'venue1', password: randomBytes(9).toString('base64url') },
  venue2: { username: 'venue2', password: randomBytes(9).toString('base64url') },
  central: { username: 'central', password: randomBytes(9).toString('base64url') },
}

export interface CentralBroker {
  url: string
  start(): Promise<void>
  /** graceful stop that keeps persistent sessions (the next start() brings them back) */
  stop(): Promise<void>
  /** what the engine grants a QoS 2 subscription (RabbitMQ 3.10 downgrades to 1) */
  grantedQos2: 1 | 2
  /** what the engine does with a publish its ACL refuses (MQTT 3.1.1 has no negative PUBACK) */
  refusedPublish: 'acknowledged and dropped' | 'connection closed'
  /** what the engine does with a subscription its ACL refuses (mosquitto grants it and delivers nothing) */
  refusedSubscribe: 'granted, nothing delivered' | 'connection closed'
}

interface Received {
  topic: string
  n: number
  qos: number
  retain: boolean
}

function collect(client: MqttClient, into: Received[]): void {
  client.on('message', (topic, payload, packet) => {
    let n: unknown
    try {
      n = (JSON.parse(payload.toString()) as { n?: unknown }).n
    } catch {
      return
    }
    if (typeof n === 'number') into.push({ topic, n, qos: packet.qos, retain: packet.retain })
  })
}

export async function bridgeSuite(t: Test, broker: CentralBroker): Promise<void> {
  const site = accounts.venue1
  const { hub } = await startTestHub(t, {
    HUB_BRIDGE_URL: broker.url,
    HUB_BRIDGE_USERNAME: site.username,
    HUB_BRIDGE_PASSWORD: site.password,
    HUB_SITE_ID: 'venue1',
    HUB_BRIDGE_TOPICS: 'internal/admin',
    HUB_BRIDGE_MAX_BACKLOG: '3',
  })
  const bridge = () => (hub.link.status() as { bridge: { connected: boolean; backlog: number; delivered: number; dropped: number } }).bridge
  const droppedMetric = async () => {
    const res = await fetch(`http://127.0.0.1:${hub.ports.http}/metrics`, { headers: { authorization: `Bearer ${hub.adminToken}` } })
    return Number(/^hub_link_dropped_total\{part="bridge"\} (\S+)$/m.exec(await res.text())?.[1] ?? NaN)
  }
  await waitFor(() => bridge().connected, 15_000, 'bridge connected with the site login')

  // The central side: a persistent session (clean: false) that reconnects by itself, subscribed
  // to every site. On RabbitMQ it is a durable (quorum) queue; on mosquitto a persisted session.
  const received: Received[] = []
  const consumer = await mqtt.connectAsync(broker.url, { ...accounts.central, clientId: 'central-consumer', clean: false, reconnectPeriod: 300 })
  t.teardown(() => consumer.endAsync(true))
  collect(consumer, received)
  const granted = await consumer.subscribeAsync('sites/+/#', { qos: 1 })
  t.same(granted.map((g) => g.qos), [1], 'the central consumer holds a QoS 1 subscription to sites/+/#')
  const fromVenue1 = () => received.filter((r) => r.topic.startsWith('sites/venue1/'))

  await hub.broker.publish('internal/admin', { n: 1 }, { qos: 1 })
  await hub.broker.publish('internal/kiosk', { n: 99 }, { qos: 1 }) // not a bridged topic
  await waitFor(() => fromVenue1().length === 1, 10_000, 'first message bridged')
  t.same(fromVenue1()[0], { topic: 'sites/venue1/internal/admin', n: 1, qos: 1, retain: false }, 'arrives under sites/venue1/ at QoS 1, not retained')

  // The ACL: venue1's login publishing under venue2's prefix is refused; venue2's own login works.
  const forger = mqtt.connect(broker.url, { ...site, clientId: 'venue1-forger', reconnectPeriod: 0 })
  t.teardown(() => forger.endAsync(true))
  await new Promise<void>((resolve, reject) => {
    forger.once('connect', () => resolve())
    forger.once('error', reject)
  })
  forger.on('error', () => undefined) // RabbitMQ answers by closing the connection
  const outcome = await Promise.race([
    forger.publishAsync('sites/venue2/internal/admin', JSON.stringify({ n: 666 }), { qos: 1 }).then(() => 'acknowledged and dropped' as const),
    new Promise<'connection closed'>((resolve) => forger.once('close', () => resolve('connection closed'))),
  ])
  t.equal(outcome, broker.refusedPublish, `a publish under another site's prefix: ${outcome}`)
  const venue2 = await mqtt.connectAsync(broker.url, { ...accounts.venue2, clientId: 'dispenser-hub-venue2', reconnectPeriod: 0 })
  t.teardown(() => venue2.endAsync(true))
  // sent after the forged publish was settled: had the broker routed it, it would come first
  await venue2.publishAsync('sites/venue2/internal/admin', JSON.stringify({ n: 1000 }), { qos: 1 })
  await waitFor(() => received.some((r) => r.n === 1000), 10_000, "venue2's own message")
  t.same(
    received.filter((r) => r.topic.startsWith('sites/venue2/')).map((r) => r.n),
    [1000],
    "nothing forged under venue2's prefix reached the central consumer; venue2's own message did",
  )

  // A site's login reads nothing on the central broker: there is no path from the centre into a hub.
  const listener = mqtt.connect(broker.url, { ...accounts.venue2, clientId: 'dispenser-hub-venue2-listener', reconnectPeriod: 0 })
  t.teardown(() => listener.endAsync(true))
  await new Promise<void>((resolve, reject) => {
    listener.once('connect', () => resolve())
    listener.once('error', reject)
  })
  listener.on('error', () => undefined)
  const heard: Received[] = []
  collect(listener, heard)
  let subscribed = await listener.subscribeAsync('sites/venue2/#', { qos: 1 }).then(
    () => 'granted',
    (error: Error & { code?: number }) => (error.code === 0x80 ? 'SUBACK 0x80' : listener.connected ? `error: ${error.message}` : 'connection closed'),
  )
  if (subscribed === 'granted') {
    await venue2.publishAsync('sites/venue2/internal/admin', JSON.stringify({ n: 1001 }), { qos: 1 })
    await waitFor(() => received.some((r) => r.n === 1001), 10_000, 'the central consumer gets the next venue2 message')
    // the broker wrote any copy for the listener before it answers the listener's next packet
    await listener.unsubscribeAsync('sites/venue2/#')
    subscribed = heard.length === 0 ? 'granted, nothing delivered' : `granted, ${heard.length} delivered`
  }
  t.equal(subscribed, broker.refusedSubscribe, `a site's login subscribing, even to its own prefix: ${subscribed}`)

  // Store-and-forward across a restart of the central broker.
  await broker.stop()
  await waitFor(() => !bridge().connected, 10_000, 'bridge sees the central broker gone')
  for (const n of [2, 3, 4]) await hub.broker.publish('internal/admin', { n }, { qos: 1 })
  // HUB_BRIDGE_MAX_BACKLOG=3: the Pi keeps no more than that for a central broker that is away
  for (const n of [50, 51]) await hub.broker.publish('internal/admin', { n }, { qos: 1 })
  await waitFor(() => bridge().backlog === 3, 5000, 'three messages stored while down')
  t.same({ backlog: bridge().backlog, dropped: bridge().dropped }, { backlog: 3, dropped: 2 }, 'past the cap new messages are dropped and counted; what waits stays')
  t.equal(await droppedMetric(), 2, 'and shown in /metrics as hub_link_dropped_total{part="bridge"}')
  await broker.start()
  await waitFor(() => fromVenue1().length >= 4, 20_000, 'stored messages forwarded after the central broker came back')
  t.same(fromVenue1().map((r) => r.n), [1, 2, 3, 4], 'in order, none lost below the cap, the unbridged topic and the dropped ones never sent')
  t.ok(fromVenue1().every((r) => r.topic === 'sites/venue1/internal/admin' && r.qos === 1 && !r.retain), 'all at QoS 1 under the site prefix')
  await waitFor(() => bridge().backlog === 0, 5000, 'backlog drained')

  // A consumer that subscribes later gets no retained replay: the bridge never retains.
  const late = await mqtt.connectAsync(broker.url, { ...accounts.central, clientId: 'central-late', clean: true, reconnectPeriod: 0 })
  t.teardown(() => late.endAsync(true))
  const lateReceived: Received[] = []
  collect(late, lateReceived)
  const lateGranted = await late.subscribeAsync('sites/venue1/#', { qos: 2 })
  t.equal(lateGranted[0]?.qos, broker.grantedQos2, `a QoS 2 subscription is granted QoS ${broker.grantedQos2}`)
  await hub.broker.publish('internal/admin', { n: 5 }, { qos: 1 })
  await waitFor(() => lateReceived.length >= 1, 10_000, 'the late consumer gets the next message')
  t.same(lateReceived[0], { topic: 'sites/venue1/internal/admin', n: 5, qos: 1, retain: false }, 'its first message is the new one at QoS 1: nothing retained replayed')
  await waitFor(() => fromVenue1().length >= 5, 10_000, 'the persistent consumer gets it too')
  t.same(fromVenue1().map((r) => r.n), [1, 2, 3, 4, 5])
  // the consumer may see a message before the bridge has acked it in its outbox
  await waitFor(() => bridge().delivered >= 5, 5000, 'the bridge counts the fifth delivery')
  t.same({ delivered: bridge().delivered, backlog: bridge().backlog, dropped: bridge().dropped }, { delivered: 5, backlog: 0, dropped: 2 }, 'the bridge delivered exactly what it kept, once each; below the cap again nothing more is dropped')
}
