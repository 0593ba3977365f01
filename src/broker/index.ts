/**
 * createBroker: the embedded MQTT broker (DESIGN §1, §4, §7). Aedes 1.x with its sessions,
 * retained and in-flight QoS 1 messages in its own LevelDB at `${dataDir}/broker`, behind
 * BrokerPort. Up/down come from Aedes's own connection events, with the reason (connection-tracker.ts).
 */
import { join } from 'node:path'
import { Aedes } from 'aedes'
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js'
import { Level } from 'level'
import mqttPacket from 'mqtt-packet'
import type { Logger } from 'pino'
import type { Config } from '../config/index.js'
import { systemClock, type Clock } from '../lib/clock.js'
import { createAuthHooks } from './auth.js'
import { mayForward, NO_RETAIN_TOPICS } from './acl.js'
import { isEnrollTopic } from '../protocol/topics.js'
import type { EnrollmentGate } from './auth.js'
import { createCounters } from './counters.js'
import type { MetricFamily } from '../metrics/index.js'
import type { CredentialStore } from './credentials.js'
import { startListeners } from './listeners.js'
import { createLogLimiter } from './log-limiter.js'
import { JsonBytes, type BrokerPort, type ClientIdentity, type InboundMessage } from './port.js'
import { trackConnections, type ConnectionTracker } from './connection-tracker.js'
import { topicMatches } from './topic-filter.js'
import { createSilentTopics } from './silent-topics.js'

export type { BrokerPort, ClientIdentity, DisconnectReason, InboundMessage, Role } from './port.js'
export { JsonBytes } from './port.js'
export type { EnrollmentGate } from './auth.js'
export { createCredentialStore, type CredentialStore } from './credentials.js'
export { ensureAdminToken } from './admin-token.js'

export interface Broker extends BrokerPort {
  ports: { mqtt: number; ws: number | null; tls: number | null }
  /** refused connections, closed connections and dropped publishes by reason, for /metrics */
  metrics(): MetricFamily[]
  /** Disconnects every client whose identity matches (the enrollment window shut: its logins go). */
  disconnect(match: (identity: ClientIdentity) => boolean): number
  close(): Promise<void>
}

export interface BrokerDeps {
  config: Config
  log: Logger
  credentials: CredentialStore
  /** time for rate limits, login back-off and log intervals (default: the system clock) */
  clock?: Clock
  /** called when the ACL refuses a publish or subscription */
  onRefused?: (identity: ClientIdentity, what: string, reason: string) => void
  /** the enrollment window and secret (issue 16); without it the enrollment login is refused */
  enrollment?: EnrollmentGate
}

type Handlers<T> = Set<T>

/**
 * Aedes never stores a QoS 1 message it delivers to a clean-session client (its deliverQoS skips
 * outgoingUpdate for them), yet asks the persistence to clear it at every PUBACK: with LevelDB a
 * read on the event loop per acknowledgement, ~1,000 of them in a 1,000-bay changeover (issue 17).
 * Dispensers always use clean sessions. Stored packets dropped at a clean connect (cmd
 * `publish`, from an older persistent session of that client id) still reach LevelDB.
 */
class CleanSessionAwarePersistence extends AsyncLevelPersistence {
  override outgoingClearMessageId(client: { id: string; clean: boolean }, packet: { cmd: string; messageId?: number }): Promise<unknown> {
    if (client.clean && packet.cmd === 'puback') return Promise.resolve(undefined)
    return super.outgoingClearMessageId(client, packet)
  }
}

export async function createBroker({ config, log, credentials, clock = systemClock, onRefused, enrollment }: BrokerDeps): Promise<Broker> {
  // mqtt-packet (Aedes's encoder) otherwise builds, at the first packet it writes, a table of 65,536
  // two-byte Buffers for packet ids and lengths: 6.4 MB of heap, a third of what 1,000 connected
  // dispensers cost (issue 17). Without it each such number is written from a fresh 2-byte slice
  // of Node's buffer pool; the bytes on the wire are the same. Set before any packet is written.
  mqttPacket.writeToStream.cacheNumbers = false
  const db = new Level<string, Buffer>(join(config.dataDir, 'broker'), { valueEncoding: 'buffer' })
  await db.open()
  const counters = createCounters()
  const noisy = createLogLimiter({ log, clock })
  let connections: ConnectionTracker | undefined // set right after Aedes is built, before any listener exists
  let send = (_topic: string, _payload: object) => {}
  const auth = createAuthHooks({
    config,
    credentials,
    log,
    clock,
    counters,
    noisy,
    holderOf: (clientId, except) => connections?.holderOf(clientId, except),
    send: (topic, payload) => send(topic, payload),
    ...(onRefused ? { onRefused } : {}),
    ...(enrollment ? { enrollment } : {}),
  })
  const persistence = new CleanSessionAwarePersistence(db)
  const aedes = await Aedes.createBroker({
    persistence,
    // No delivery queue. With a limit (Aedes' default is 100 messages in flight) a burst above it
    // queues, and mqemitter drains its queue recursively through messages that complete
    // synchronously: those no client subscribes to, such as every dispenser's Confirmation and
    // Report on external/handler (the hub reads them from the 'publish' event). 1,000 controls
    // sent in one tick queued ~1,800 answers and overflowed the stack, killing the hub
    // (test/broker/delivery-queue.test.ts). Inbound floods are bounded per client already
    // (maxInflightInbound, the publish rate limit), so the queue bounded nothing of its own.
    concurrency: 0,
    preConnect: auth.preConnect,
    authenticate: (client, username, password, done) =>
      auth.authenticate(client, username, password, (error, ok) => {
        if (ok) connections?.authenticated(client)
        done(error, ok)
      }),
    authorizePublish: auth.authorizePublish,
    authorizeSubscribe: auth.authorizeSubscribe,
    // The hub sends a new bay's secret on external/enroll/{mac}: whatever filter matched
    // (an admin tool's external/#), only that MAC's enrollee receives it.
    authorizeForward: (client, packet) => (mayForward(auth.identityOf(client), packet.topic) ? packet : null),
  }).catch(async (error: unknown) => {
    await db.close()
    throw error
  })
  const tracked = trackConnections(aedes, auth.identityOf, log)
  connections = tracked
  // Off the hook's stack: a refusal Confirmation is an ordinary hub publish (client null).
  send = (topic, payload) =>
    setImmediate(() =>
      aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain: false, dup: false }, (error) => {
        if (error) log.warn({ err: error, topic }, 'refusal confirmation not published')
      }),
    )
  // Issue 10 defect 13: retained messages kept on the inboxes by older versions would be replayed
  // to every new subscriber; drop them before any client connects.
  for (const topic of NO_RETAIN_TOPICS) await persistence.storeRetained({ topic, payload: Buffer.alloc(0) })
  if (config.mqttAllowAnonymous) log.warn('HUB_MQTT_ALLOW_ANONYMOUS=true: anonymous MQTT clients are accepted (development only)')

  const messageHandlers: Handlers<{ filter: string; handler: (m: InboundMessage) => void }> = new Set()
  const publishObservers: Handlers<{ filter: string; handler: (m: InboundMessage) => void }> = new Set()

  const safely = <A extends unknown[]>(fn: (...args: A) => void, ...args: A) => {
    try {
      fn(...args)
    } catch (error) {
      log.error({ err: error }, 'broker event handler failed')
    }
  }

  // issue 17: a hub publish nobody would receive is dropped before Aedes (silent-topics.ts).
  // Live subscriptions are in Aedes's router (mqemitter's matcher, which has no public lookup: if
  // it is not where it was, nothing is dropped); a persistent session's, while it is offline, only
  // in the persistence.
  const matcher = (aedes as unknown as { mq?: { _matcher?: { match?: (topic: string) => unknown[] } } }).mq?._matcher
  const silent = createSilentTopics({
    live: (topic) => (typeof matcher?.match === 'function' ? matcher.match(topic).length > 0 : undefined),
    stored: async (topic) => (await persistence.subscriptionsByTopic(topic)).length > 0,
    observed: (topic) => [...publishObservers].some(({ filter }) => topicMatches(filter, topic)),
  })
  aedes.on('subscribe', () => silent.changed())
  aedes.on('unsubscribe', () => silent.changed())
  aedes.on('client', () => silent.changed())
  aedes.on('clientDisconnect', () => silent.changed())

  // $SYS and the refusal sink ($hub/refused) start with '$': never delivered to handlers.
  aedes.on('publish', (packet, client) => {
    if (packet.topic.startsWith('$')) return
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    const identity = client ? (auth.identityOf(client) ?? null) : null
    // never bridged: the hub's enrollment messages carry secrets
    if (!isEnrollTopic(packet.topic)) for (const { filter, handler } of publishObservers) {
      if (topicMatches(filter, packet.topic)) safely(handler, { topic: packet.topic, payload, client: identity })
    }
    if (!identity) return // published by the hub itself
    for (const { filter, handler } of messageHandlers) {
      if (topicMatches(filter, packet.topic)) safely(handler, { topic: packet.topic, payload, client: identity })
    }
  })

  const listeners = await startListeners(aedes, config, {
    onViolation: (code, reason, address) => {
      counters.inc('dispenser_mqtt_closed_connections_total', code)
      noisy.warn('connection closed: bad packet', { address, reason })
    },
  }).catch(async (error: unknown) => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
    await db.close()
    throw error
  })
  log.info({ mqttPort: listeners.ports.mqtt, mqttWsPort: listeners.ports.ws, mqttTlsPort: listeners.ports.tls, host: config.mqttHost }, 'MQTT listening')

  return {
    ports: listeners.ports,
    metrics: () => counters.families(),
    publish(topic, payload, options = {}) {
      const retain = options.retain ?? false
      // Nobody subscribed, nobody observing: MQTT would drop it, so it never enters Aedes.
      if (!retain && silent.isSilent(topic)) return Promise.resolve()
      if (!retain) silent.learn(topic)
      return new Promise((resolve, reject) => {
        aedes.publish(
          { cmd: 'publish', topic, payload: payload instanceof JsonBytes ? payload.bytes : Buffer.from(JSON.stringify(payload)), qos: options.qos ?? 0, retain, dup: false },
          (error) => (error ? reject(error) : resolve()),
        )
      })
    },
    onMessage(filter, handler) {
      const entry = { filter, handler }
      messageHandlers.add(entry)
      return () => messageHandlers.delete(entry)
    },
    onPublish(filter, handler) {
      const entry = { filter, handler }
      publishObservers.add(entry)
      silent.changed()
      return () => publishObservers.delete(entry)
    },
    onClientUp: (handler) => tracked.onUp(handler),
    onClientDown: (handler) => tracked.onDown(handler),
    connectedClients: () => tracked.connected(),
    disconnect(match) {
      let closed = 0
      // Aedes keeps its clients in `clients` (id -> Client); its typings leave it out
      const clients = (aedes as unknown as { clients: Record<string, import('aedes').Client> }).clients
      for (const client of Object.values(clients)) {
        const identity = auth.identityOf(client)
        if (identity && match(identity)) {
          client.close()
          closed++
        }
      }
      return closed
    },
    async close() {
      // Order matters: stop new connections, let Aedes close its clients (each gets down 'shutdown'),
      // end any socket still connecting, then the LevelDB (DESIGN §7: after broker.close()).
      tracked.closing()
      listeners.stopAccepting()
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await listeners.close()
      noisy.close()
      if (db.status !== 'closed') await db.close()
    },
  }
}
