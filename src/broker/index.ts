/**
 * createBroker: the embedded MQTT broker (DESIGN §1, §4, §7). Aedes 1.x with its sessions,
 * retained and in-flight QoS 1 messages in its own LevelDB at `${dataDir}/broker`, behind
 * BrokerPort. Up/down come from Aedes's own connection events, with the reason (connection-tracker.ts).
 */
import { join } from 'node:path'
import { Aedes } from 'aedes'
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js'
import { Level } from 'level'
import type { Logger } from 'pino'
import type { Config } from '../config/index.js'
import { createAuthHooks } from './auth.js'
import type { CredentialStore } from './credentials.js'
import { startListeners } from './listeners.js'
import type { BrokerPort, ClientIdentity, InboundMessage } from './port.js'
import { trackConnections, type ConnectionTracker } from './connection-tracker.js'
import { topicMatches } from './topic-filter.js'

export type { BrokerPort, ClientIdentity, DisconnectReason, InboundMessage, Role } from './port.js'
export { createCredentialStore, type CredentialStore } from './credentials.js'
export { ensureAdminToken } from './admin-token.js'

export interface Broker extends BrokerPort {
  ports: { mqtt: number; ws: number | null; tls: number | null }
  close(): Promise<void>
}

export interface BrokerDeps {
  config: Config
  log: Logger
  credentials: CredentialStore
  /** called when the ACL refuses a publish or subscription */
  onRefused?: (identity: ClientIdentity, what: string, reason: string) => void
}

type Handlers<T> = Set<T>

export async function createBroker({ config, log, credentials, onRefused }: BrokerDeps): Promise<Broker> {
  const db = new Level<string, Buffer>(join(config.dataDir, 'broker'), { valueEncoding: 'buffer' })
  await db.open()
  const auth = createAuthHooks({ config, credentials, log, ...(onRefused ? { onRefused } : {}) })
  let connections: ConnectionTracker | undefined // set right after Aedes is built, before any listener exists
  const aedes = await Aedes.createBroker({
    persistence: new AsyncLevelPersistence(db),
    preConnect: auth.preConnect,
    authenticate: (client, username, password, done) =>
      auth.authenticate(client, username, password, (error, ok) => {
        if (ok) connections?.authenticated(client)
        done(error, ok)
      }),
    authorizePublish: auth.authorizePublish,
    authorizeSubscribe: auth.authorizeSubscribe,
  }).catch(async (error: unknown) => {
    await db.close()
    throw error
  })
  const tracked = trackConnections(aedes, auth.identityOf, log)
  connections = tracked
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

  // $SYS and the refusal sink ($hub/refused) start with '$': never delivered to handlers.
  aedes.on('publish', (packet, client) => {
    if (packet.topic.startsWith('$')) return
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    const identity = client ? (auth.identityOf(client) ?? null) : null
    for (const { filter, handler } of publishObservers) {
      if (topicMatches(filter, packet.topic)) safely(handler, { topic: packet.topic, payload, client: identity })
    }
    if (!identity) return // published by the hub itself
    for (const { filter, handler } of messageHandlers) {
      if (topicMatches(filter, packet.topic)) safely(handler, { topic: packet.topic, payload, client: identity })
    }
  })

  const listeners = await startListeners(aedes, config).catch(async (error: unknown) => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
    await db.close()
    throw error
  })
  log.info({ mqttPort: listeners.ports.mqtt, mqttWsPort: listeners.ports.ws, mqttTlsPort: listeners.ports.tls, host: config.mqttHost }, 'MQTT listening')

  return {
    ports: listeners.ports,
    publish(topic, payload, options = {}) {
      return new Promise((resolve, reject) => {
        aedes.publish(
          { cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(payload)), qos: options.qos ?? 0, retain: options.retain ?? false, dup: false },
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
      return () => publishObservers.delete(entry)
    },
    onClientUp: (handler) => tracked.onUp(handler),
    onClientDown: (handler) => tracked.onDown(handler),
    connectedClients: () => tracked.connected(),
    async close() {
      // Order matters: stop new connections, let Aedes close its clients (each gets down 'shutdown'),
      // end any socket still connecting, then the LevelDB (DESIGN §7: after broker.close()).
      tracked.closing()
      listeners.stopAccepting()
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await listeners.close()
      if (db.status !== 'closed') await db.close()
    },
  }
}
