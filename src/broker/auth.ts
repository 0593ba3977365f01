/**
 * Aedes hooks for authentication and the ACL (DESIGN §4, §9). Aedes hooks are callback-style:
 * every hook here calls back exactly once and never throws into Aedes (STYLE §3.13).
 */
import type { AuthenticateError, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes'
import type { Logger } from 'pino'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import { machineOf, type ClientIdentity } from '../protocol/identity.js'
import { machineIdFromNode, machineNodeName } from '../protocol/topics.js'
import { ENROLL_USERNAME, macFromEnrollClientId } from '../protocol/fleet.js'
import { canSubscribe } from './acl.js'
import { createAuthThrottle } from './auth-throttle.js'
import type { BrokerCounters } from './counters.js'
import type { CredentialStore, VerifyOptions } from './credentials.js'
import type { LogLimiter } from './log-limiter.js'
import { createPublishPolicy } from './publish-policy.js'

export { REFUSED_TOPIC } from './publish-policy.js'

interface ConnectFacts {
  clientId: string
  clean: boolean
  keepalive: number
}

// MQTT CONNACK return codes (3.1.1 §3.2.2.3)
const IDENTIFIER_REJECTED = 2
const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

function refusal(code: number, message: string, reason: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code, reason }) as AuthenticateError
}

/** The label a refusal is counted under in /metrics. */
const reasonOf = (error: AuthenticateError) => (error as AuthenticateError & { reason?: string }).reason ?? 'error'

/** The peer address the listener recorded on the stream it gave Aedes (packet-guard.ts). */
const addressOf = (client: Client): string | undefined => (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress

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
  clock: Clock
  counters: BrokerCounters
  /** bounded warnings about clients not (yet) trusted */
  noisy: LogLimiter
  /** who holds a client id now, other than `except` (connection-tracker.ts) */
  holderOf(clientId: string, except: Client): ClientIdentity | undefined
  /** publish a hub message in-process (refusal Confirmations) */
  send(topic: string, payload: object): void
  /** a publish or subscription refused by the ACL (counted as bad input) */
  onRefused?: (identity: ClientIdentity, what: string, reason: string) => void
  /** the enrollment window and its shared secret (issue 16); without it the enrollment login is refused */
  enrollment?: EnrollmentGate
}

/** What the broker asks about the shared enrollment login (src/fleet owns the window). */
export interface EnrollmentGate {
  isOpen(): boolean
  /** constant-time comparison with the enrollment secret */
  verify(secret: string): boolean
}

export function createAuthHooks(deps: AuthDeps): AuthHooks {
  const { config, credentials, log, clock, counters, noisy, holderOf, onRefused } = deps
  const facts = new WeakMap<Client, ConnectFacts>()
  const identities = new WeakMap<Client, ClientIdentity>()
  const served = new Set(config.machineIds)
  const throttle = createAuthThrottle({ clock, maxFailures: config.mqttAuthFailures, backoffMaxMs: config.mqttAuthBackoffMaxS * 1000 })
  const maxId = config.mqttMaxIdLength

  /** Runs the secret check unless the login is in back-off; counts the outcome per username and address. */
  const verified = async <T>(username: string, address: string | undefined, verify: (options: VerifyOptions) => Promise<T>): Promise<T | undefined> => {
    const wait = throttle.blockedFor(username, address)
    if (wait > 0) throw refusal(BAD_USERNAME_OR_PASSWORD, `too many failed logins; retry in ${Math.ceil(wait / 1000)} s`, 'throttled')
    let skipped = false
    // asked again when the check's turn comes: a guess queued behind a storm costs no scrypt once throttled
    const shouldRun = () => {
      skipped = throttle.blockedFor(username, address) > 0
      return !skipped
    }
    const result = await verify({ shouldRun })
    if (skipped) throw refusal(BAD_USERNAME_OR_PASSWORD, 'too many failed logins; retry later', 'throttled')
    if (result) throttle.succeeded(username, address)
    else throttle.failed(username, address)
    return result || undefined
  }

  const decide = async (client: Client, username: string | undefined, password: Buffer | undefined): Promise<ClientIdentity> => {
    const connect = facts.get(client)!
    // [MQTT-3.1.3-8]: an empty client id requires a clean session
    if (connect.clientId === '' && !connect.clean) throw refusal(IDENTIFIER_REJECTED, 'an empty client id needs a clean session', 'identifier')
    // DESIGN §9: bounded ids keep every log line and map key small
    if (connect.clientId.length > maxId) throw refusal(IDENTIFIER_REJECTED, `client id longer than ${maxId} characters`, 'too_long')
    if (username !== undefined && username.length > maxId) throw refusal(BAD_USERNAME_OR_PASSWORD, `username longer than ${maxId} characters`, 'too_long')
    const secret = password?.toString('utf8') ?? ''
    if (username === undefined || username === '') {
      if (!config.mqttAllowAnonymous) throw refusal(NOT_AUTHORIZED, 'anonymous clients are refused', 'anonymous')
      const identity: ClientIdentity = { kind: 'anonymous', clientId: connect.clientId }
      const machineId = machineOf(identity)
      if (machineId !== undefined) checkMachine(machineId, connect)
      else checkTakeover(client, connect.clientId, (holder) => holder.kind === 'anonymous')
      return identity
    }
    const address = addressOf(client)
    if (username === ENROLL_USERNAME) return enrollee(client, connect, secret, address)
    const machineId = machineIdFromNode(username)
    if (machineId !== undefined) {
      if (!(await verified(username, address, (o) => credentials.verifyMachine(machineId, secret, o)))) {
        throw refusal(BAD_USERNAME_OR_PASSWORD, 'bad username or secret', 'bad_credentials')
      }
      if (machineIdFromNode(connect.clientId) !== machineId) {
        throw refusal(IDENTIFIER_REJECTED, `client id must name machine ${machineId}`, 'identifier')
      }
      checkMachine(machineId, connect)
      return { kind: 'machine', clientId: connect.clientId, machineId, keepalive: connect.keepalive }
    }
    const role = await verified(username, address, (o) => credentials.verifyNode(username, secret, o))
    if (!role) throw refusal(BAD_USERNAME_OR_PASSWORD, 'bad username or secret', 'bad_credentials')
    // else a node could take over (disconnect) a dispenser's session by using its client id
    if (machineIdFromNode(connect.clientId) !== undefined || macFromEnrollClientId(connect.clientId) !== undefined) throw refusal(IDENTIFIER_REJECTED, `client id is a machine's`, 'identifier')
    // ... or another node's: a kiosk disconnected the admin console (issue 10 defect 7)
    checkTakeover(client, connect.clientId, (holder) => holder.kind === 'node' && holder.node === username)
    return { kind: 'node', clientId: connect.clientId, node: username, role }
  }

  /**
   * The shared enrollment login (issue 16): only while staff hold the window open, only with a
   * client id naming a well-formed MAC, under the dispenser connection rules (clean, keep-alive).
   * The window is checked before the secret, so a shut window costs nothing and counts no failure.
   */
  const enrollee = async (client: Client, connect: ConnectFacts, secret: string, address: string | undefined): Promise<ClientIdentity> => {
    const gate = deps.enrollment
    if (!gate || !gate.isOpen()) throw refusal(NOT_AUTHORIZED, 'enrollment is closed', 'enrollment_closed')
    const ok = await verified(ENROLL_USERNAME, address, async (o) => (o.shouldRun && !o.shouldRun() ? false : gate.verify(secret)))
    if (!ok) throw refusal(BAD_USERNAME_OR_PASSWORD, 'bad username or secret', 'bad_credentials')
    const mac = macFromEnrollClientId(connect.clientId)
    if (mac === undefined) throw refusal(IDENTIFIER_REJECTED, 'client id must be enroll_ and the MAC as 12 lowercase hex digits', 'identifier')
    if (connect.keepalive === 0 || connect.keepalive > config.mqttMaxKeepalive) {
      throw refusal(NOT_AUTHORIZED, `keep-alive ${connect.keepalive} s is outside 1..${config.mqttMaxKeepalive}`, 'not_authorized')
    }
    if (!connect.clean) throw refusal(NOT_AUTHORIZED, 'an enrolling dispenser must connect with a clean session', 'not_authorized')
    // the same device reconnecting may take its id over; nobody else holds an enroll_ id
    checkTakeover(client, connect.clientId, (holder) => holder.kind === 'enrollee' && holder.mac === mac)
    return { kind: 'enrollee', clientId: connect.clientId, mac, keepalive: connect.keepalive }
  }

  /** [MQTT-3.1.4-2] lets a new connection take over its client id; only its own holder may. */
  const checkTakeover = (client: Client, clientId: string, mayTakeOver: (holder: ClientIdentity) => boolean) => {
    const holder = holderOf(clientId, client)
    if (holder && !mayTakeOver(holder)) throw refusal(IDENTIFIER_REJECTED, 'client id is in use by another client', 'identifier')
  }

  const checkMachine = (machineId: number, connect: ConnectFacts) => {
    if (!served.has(machineId)) throw refusal(NOT_AUTHORIZED, `machine ${machineId} is not in HUB_MACHINES`, 'not_authorized')
    // DESIGN §4: a dispenser must use a keep-alive of 1..limit so offline is known in 1.5 x keep-alive
    if (connect.keepalive === 0 || connect.keepalive > config.mqttMaxKeepalive) {
      throw refusal(NOT_AUTHORIZED, `machine keep-alive ${connect.keepalive} s is outside 1..${config.mqttMaxKeepalive}`, 'not_authorized')
    }
    // DESIGN §4: a command queued for hours in a persistent session would run past its session.
    if (!connect.clean) throw refusal(NOT_AUTHORIZED, `machine ${machineId} must connect with a clean session`, 'not_authorized')
  }

  // A looping firmware can send thousands of refused packets: log the first few per client, then every 100th.
  const refusals = new WeakMap<Client, number>()
  const noteRefusal = (client: Client, identity: ClientIdentity | undefined, what: string, reason: string) => {
    const count = (refusals.get(client) ?? 0) + 1
    refusals.set(client, count)
    if (count <= 3 || count % 100 === 0) log.warn({ clientId: client.id, what, reason, count }, 'refused')
    if (identity) onRefused?.(identity, what, reason)
  }

  const policy = createPublishPolicy({ config, clock, counters, send: deps.send, onRefused: noteRefusal })

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
          const reason = reasonOf(error)
          counters.inc('dispenser_mqtt_refused_connections_total', reason)
          // pre-auth: the client chose every field here, so the lines are bounded and rate-limited (defect 14)
          noisy.warn('connection refused', { clientId: facts.get(client)?.clientId, username, address: addressOf(client), reason: error.message })
          done(error.returnCode ? error : refusal(NOT_AUTHORIZED, String(error), 'error'), false)
        },
      )
    },
    authorizePublish(client, packet, cb) {
      if (!client) return cb(null) // the hub itself
      policy.apply(client, identities.get(client), packet)
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
