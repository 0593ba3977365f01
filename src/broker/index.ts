/**
 * createBroker: the embedded MQTT broker (DESIGN §1, §4, §7). Aedes 1.x with its sessions,
 * retained and in-flight QoS 1 messages in its own LevelDB at `${dataDir}/broker`, behind
 * BrokerPort. Presence comes from Aedes's own connection events, with the reason.
 */
import { join } from 'node:path'
import { Aedes, type Client } from 'aedes'
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js'
import { Level } from 'level'
import type { Logger } from 'pino'
import type { Config } from '../config/index.js'
import { createAuthHooks } from './auth.js'
import type { CredentialStore } from './credentials.js'
import { startListeners } from './listeners.js'
import type { BrokerPort, ClientIdentity, DisconnectReason, InboundMessage } from './port.js'
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
  // Clients past authentication but not yet registered: one of them replacing an older connection
  // with the same id is a takeover ([MQTT-3.1.4-2]: Aedes closes the old one first).
  const authenticating = new Set<Client>()
  const auth = createAuthHooks({ config, credentials, log, ...(onRefused ? { onRefused } : {}) })
  const aedes = await Aedes.createBroker({
    persistence: new AsyncLevelPersistence(db as never),
    preConnect: auth.preConnect as never,
    authenticate: (client, username, password, done) =>
      auth.authenticate(client, username, password, (error, ok) => {
        if (ok) authenticating.add(client)
        done(error, ok)
      }),
    authorizePublish: auth.authorizePublish,
    authorizeSubscribe: auth.authorizeSubscribe,
  })
  if (config.mqttAllowAnonymous) log.warn('HUB_MQTT_ALLOW_ANONYMOUS=true: anonymous MQTT clients are accepted (development only)')

  const messageHandlers: Handlers<{ filter: string; handler: (m: InboundMessage) => void }> = new Set()
  const upHandlers: Handlers<(c: ClientIdentity) => void> = new Set()
  const downHandlers: Handlers<(c: ClientIdentity, r: DisconnectReason) => void> = new Set()
  const connected = new Map<Client, ClientIdentity>()
  const keepaliveExpired = new WeakSet<Client>()
  const errored = new WeakSet<Client>()
  let closing = false

  const safely = <A extends unknown[]>(fn: (...args: A) => void, ...args: A) => {
    try {
      fn(...args)
    } catch (error) {
      log.error({ err: error }, 'broker event handler failed')
    }
  }

  aedes.on('publish', (packet, client) => {
    if (!client || packet.topic.startsWith('$')) return
    const identity = connected.get(client) ?? auth.identityOf(client)
    if (!identity) return
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    for (const { filter, handler } of messageHandlers) {
      if (topicMatches(filter, packet.topic)) safely(handler, { topic: packet.topic, payload, client: identity })
    }
  })
  aedes.on('client', (client) => {
    authenticating.delete(client)
    const identity = auth.identityOf(client)
    if (!identity) return
    connected.set(client, identity)
    log.debug({ clientId: client.id, kind: identity.kind }, 'client connected')
    for (const handler of upHandlers) safely(handler, identity)
  })
  aedes.on('keepaliveTimeout', (client) => keepaliveExpired.add(client))
  aedes.on('clientError', (client) => {
    errored.add(client)
    authenticating.delete(client)
  })
  aedes.on('clientDisconnect', (client) => {
    authenticating.delete(client)
    const identity = connected.get(client)
    if (!identity) return
    connected.delete(client)
    const reason = reasonFor(client)
    log.debug({ clientId: client.id, reason }, 'client disconnected')
    for (const handler of downHandlers) safely(handler, identity, reason)
  })

  const reasonFor = (client: Client): DisconnectReason => {
    if (closing) return 'shutdown'
    if (keepaliveExpired.has(client)) return 'keepalive'
    if ((client as Client & { _disconnected?: boolean })._disconnected) return 'clean'
    // [MQTT-3.1.4-2]: the same client id connecting again closes the old connection first
    for (const pending of authenticating) if (pending.id === client.id && pending !== client) return 'takeover'
    if (errored.has(client)) return 'error'
    return 'dropped'
  }

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
    onClientUp(handler) {
      upHandlers.add(handler)
      return () => upHandlers.delete(handler)
    },
    onClientDown(handler) {
      downHandlers.add(handler)
      return () => downHandlers.delete(handler)
    },
    connectedClients: () => [...connected.values()],
    async close() {
      closing = true
      await listeners.close()
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      if (db.status !== 'closed') await db.close()
    },
  }
}
