/**
 * Aedes hooks for authentication and the ACL (DESIGN §4). Aedes hooks are callback-style:
 * every hook here calls back exactly once and never throws into Aedes (STYLE §3.13).
 */
import type { AuthenticateError, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes'
import type { Logger } from 'pino'
import type { Config } from '../config/index.js'
import { machineIdFromNode, machineNodeName } from '../protocol/topics.js'
import { machineOf, type ClientIdentity } from '../protocol/identity.js'
import { canPublish, canSubscribe } from './acl.js'
import type { CredentialStore } from './credentials.js'

interface ConnectFacts {
  clientId: string
  clean: boolean
  keepalive: number
}

/** Where refused publishes go to die: '$' keeps it out of every wildcard and of onMessage ([MQTT-4.7.2-1]). */
export const REFUSED_TOPIC = '$hub/refused'

// MQTT CONNACK return codes (3.1.1 §3.2.2.3)
const IDENTIFIER_REJECTED = 2
const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

function refusal(code: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError
}

export interface AuthHooks {
  preConnect(client: Client, packet: ConnectPacket, cb: (e: Error | null, ok: boolean) => void): void
  authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: (e: AuthenticateError | null, ok: boolean | null) => void): void
  authorizePublish(client: Client | null, packet: PublishPacket, cb: (e?: Error | null) => void): void
  authorizeSubscribe(client: Client, sub: Subscription, cb: (e: Error | null, sub?: Subscription | null) => void): void
  identityOf(client: Client): ClientIdentity | undefined
}

export interface AuthDeps {
  config: Config
  credentials: CredentialStore
  log: Logger
  /** a publish or subscription refused by the ACL (counted as bad input) */
  onRefused?: (identity: ClientIdentity, what: string, reason: string) => void
}

export function createAuthHooks({ config, credentials, log, onRefused }: AuthDeps): AuthHooks {
  const facts = new WeakMap<Client, ConnectFacts>()
  const identities = new WeakMap<Client, ClientIdentity>()
  const served = new Set(config.machineIds)

  const decide = async (client: Client, username: string | undefined, password: Buffer | undefined): Promise<ClientIdentity> => {
    const connect = facts.get(client)!
    // [MQTT-3.1.3-8]: an empty client id requires a clean session
    if (connect.clientId === '' && !connect.clean) throw refusal(IDENTIFIER_REJECTED, 'an empty client id needs a clean session')
    const secret = password?.toString('utf8') ?? ''
    if (username === undefined || username === '') {
      if (!config.mqttAllowAnonymous) throw refusal(NOT_AUTHORIZED, 'anonymous clients are refused')
      const identity: ClientIdentity = { kind: 'anonymous', clientId: connect.clientId }
      const machineId = machineOf(identity)
      if (machineId !== undefined) checkMachine(machineId, connect)
      return identity
    }
    const machineId = machineIdFromNode(username)
    if (machineId !== undefined) {
      if (!(await credentials.verifyMachine(machineId, secret))) throw refusal(BAD_USERNAME_OR_PASSWORD, `bad secret for ${username}`)
      if (machineIdFromNode(connect.clientId) !== machineId) {
        throw refusal(IDENTIFIER_REJECTED, `client id "${connect.clientId}" must name machine ${machineId}`)
      }
      checkMachine(machineId, connect)
      return { kind: 'machine', clientId: connect.clientId, machineId, keepalive: connect.keepalive }
    }
    const role = await credentials.verifyNode(username, secret)
    if (!role) throw refusal(BAD_USERNAME_OR_PASSWORD, `bad username or secret for ${username}`)
    // else a node could take over (disconnect) a dispenser's session by using its client id
    if (machineIdFromNode(connect.clientId) !== undefined) throw refusal(IDENTIFIER_REJECTED, `client id "${connect.clientId}" is a machine's`)
    return { kind: 'node', clientId: connect.clientId, node: username, role }
  }

  const checkMachine = (machineId: number, connect: ConnectFacts) => {
    if (!served.has(machineId)) throw refusal(NOT_AUTHORIZED, `machine ${machineId} is not in HUB_MACHINES`)
    // DESIGN §4: a dispenser must use a keep-alive of 1..limit so offline is known in 1.5 x keep-alive
    if (connect.keepalive === 0 || connect.keepalive > config.mqttMaxKeepalive) {
      throw refusal(NOT_AUTHORIZED, `machine keep-alive ${connect.keepalive} s is outside 1..${config.mqttMaxKeepalive}`)
    }
    // DESIGN §4: a command queued for hours in a persistent session would run past its session.
    if (!connect.clean) throw refusal(NOT_AUTHORIZED, `machine ${machineId} must connect with a clean session`)
  }

  // A looping firmware can send thousands of refused packets: log the first few per client, then every 100th.
  const refusals = new WeakMap<Client, number>()
  const noteRefusal = (client: Client, identity: ClientIdentity | undefined, what: string, reason: string) => {
    const count = (refusals.get(client) ?? 0) + 1
    refusals.set(client, count)
    if (count <= 3 || count % 100 === 0) log.warn({ clientId: client.id, what, reason, count }, 'refused')
    if (identity) onRefused?.(identity, what, reason)
  }

  return {
    preConnect(client, packet, cb) {
      // `machine_4` and `machine_004` are one machine (DESIGN §4), so one MQTT client id: a second
      // connection under the other spelling is a takeover, not a second dispenser 4.
      const named = machineIdFromNode(packet.clientId ?? '')
      if (named !== undefined) packet.clientId = machineNodeName(named)
      facts.set(client, { clientId: packet.clientId ?? '', clean: packet.clean !== false, keepalive: packet.keepalive ?? 0 })
      cb(null, true)
    },
    authenticate(client, username, password, done) {
      decide(client, username, password).then(
        (identity) => {
          identities.set(client, identity)
          done(null, true)
        },
        (error: AuthenticateError) => {
          log.warn({ clientId: facts.get(client)?.clientId, username, reason: error.message }, 'connection refused')
          done(error.returnCode ? error : refusal(NOT_AUTHORIZED, String(error)), false)
        },
      )
    },
    authorizePublish(client, packet, cb) {
      if (!client) return cb(null) // the hub itself
      const identity = identities.get(client)
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
      const decision = identity ? canPublish(identity, packet.topic, payload) : { ok: false as const, reason: 'not authenticated' }
      if (decision.ok) return cb(null)
      noteRefusal(client, identity, `publish ${packet.topic}`, decision.reason)
      // MQTT 3.1.1 [MQTT-3.3.5-2]: a server refusing a PUBLISH must either acknowledge it as usual or
      // close the connection. An error here makes Aedes close it (moscajs/aedes#210), and a dispenser
      // would reconnect and loop. So we acknowledge and drop: the packet goes on to a topic no client
      // may subscribe to and that onMessage skips, and is never retained.
      packet.topic = REFUSED_TOPIC
      packet.retain = false
      cb(null)
    },
    authorizeSubscribe(client, sub, cb) {
      const identity = identities.get(client)
      const decision = identity ? canSubscribe(identity, sub.topic) : { ok: false as const, reason: 'not authenticated' }
      if (decision.ok) return cb(null, sub)
      noteRefusal(client, identity, `subscribe ${sub.topic}`, decision.reason)
      cb(null, null) // SUBACK 0x80 for this filter; the connection stays up
    },
    identityOf: (client) => identities.get(client),
  }
}
