/**
 * What happens to a client's PUBLISH before any subscriber sees it: the ACL, retain, and the
 * per-client message rate (DESIGN §4, §9; issue 10 defects 4, 11, 13).
 *
 * A refused publish is acknowledged and dropped, never answered by closing the connection:
 * MQTT 3.1.1 gives a server no way to say no [MQTT-3.3.5-2], an error here would make Aedes
 * close it (moscajs/aedes#210) and a dispenser would reconnect and loop. The packet goes on to
 * `$hub/refused`, which no client may subscribe to and `onMessage` skips, and is never retained.
 * The sender learns why from a Confirmation `{"success": false, "message"}` on its reply topic
 * (the README promise), itself bounded so a looping client can't make the hub publish in a loop.
 */
import type { Client, PublishPacket } from 'aedes'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import { envelope, refusal } from '../protocol/envelope.js'
import { machineOf, type ClientIdentity } from '../protocol/identity.js'
import { parseJsonObject } from '../protocol/codec.js'
import { inboundEcho } from '../protocol/inbound.js'
import { isValidNodeName, machineNodeName, machineTopic, NodeNames, replyTopic, Topics } from '../protocol/topics.js'
import { canPublish, retainRefusal } from './acl.js'
import type { BrokerCounters } from './counters.js'
import { createTokenBucket, type TokenBucket } from './rate-limit.js'

/** Where refused publishes go to die: '$' keeps it out of every wildcard and of onMessage ([MQTT-4.7.2-1]). */
export const REFUSED_TOPIC = '$hub/refused'

/** Topics a node's messages cost the hub work on (schedule builds, session writes): rate-limited. */
const NODE_RATED = new Set<string>([Topics.manager, Topics.handler])
// A refusal Confirmation per refused publish, up to this many at once and one a second after.
const REPLY_BURST = 5
const REPLY_PER_S = 1
// Rate-limited clients hear about it at most once per this interval.
const RATE_NOTICE_MS = 10_000
// A dispenser's bucket holds this many seconds of its rate: reconnect bursts (report + confirmations) pass.
const MACHINE_BURST_FACTOR = 4
// An unadopted dispenser announces itself every few seconds; a flood from one login is cut here,
// before the fleet module parses it (issue 16).
const ENROLL_RATE_PER_S = 1
const ENROLL_BURST = 5

export interface PublishPolicyDeps {
  config: Config
  clock: Clock
  counters: BrokerCounters
  /** publish a Confirmation from the hub (in-process, like any hub message) */
  send(topic: string, payload: object): void
  /** a publish refused by the ACL or retain rule (counted as bad input); `reason` names the problem */
  onRefused(client: Client, identity: ClientIdentity | undefined, what: string, reason: string): void
}

export interface PublishPolicy {
  /** decides, and rewrites `packet` into a dropped one when refused; never throws */
  apply(client: Client, identity: ClientIdentity | undefined, packet: PublishPacket): void
}

export function createPublishPolicy({ config, clock, counters, send, onRefused }: PublishPolicyDeps): PublishPolicy {
  const rates = new WeakMap<Client, TokenBucket>()
  const replies = new WeakMap<Client, TokenBucket>()
  const rateNotices = new WeakMap<Client, { at: number; dropped: number }>()

  const bucketFor = (client: Client, identity: ClientIdentity, topic: string): TokenBucket | undefined => {
    const machine = machineOf(identity) !== undefined
    const enrollee = identity.kind === 'enrollee'
    if (!machine && !enrollee && !NODE_RATED.has(topic)) return undefined
    let bucket = rates.get(client)
    if (!bucket) {
      bucket = enrollee
        ? createTokenBucket(clock, ENROLL_RATE_PER_S, ENROLL_BURST)
        : machine
        ? createTokenBucket(clock, config.mqttMachineRate, config.mqttMachineRate * MACHINE_BURST_FACTOR)
        : createTokenBucket(clock, config.mqttRate, config.mqttBurst)
      rates.set(client, bucket)
    }
    return bucket
  }

  const confirm = (client: Client, identity: ClientIdentity, packet: PublishPacket, message: string) => {
    let bucket = replies.get(client)
    if (!bucket) {
      bucket = createTokenBucket(clock, REPLY_PER_S, REPLY_BURST)
      replies.set(client, bucket)
    }
    if (!bucket.take()) return
    const to = replyTarget(identity)
    if (!to) return
    const from = packet.topic === Topics.manager ? NodeNames.scheduleManager : NodeNames.machineHandler
    // Addressed to the authenticated sender, never to an origin_node the payload claims.
    // An inbox message was decoded once already (the ACL's identity check): echo from that decode.
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    const echo = inboundEcho(packet.topic, payload, identity) ?? echoedIds(payload)
    send(to.topic, envelope(refusal(message), from, to.node, clock.now() / 1000, echo))
  }

  const drop = (packet: PublishPacket) => {
    packet.topic = REFUSED_TOPIC
    packet.retain = false
  }

  return {
    apply(client, identity, packet) {
      const topic = packet.topic
      if (!identity) {
        counters.inc('dispenser_mqtt_dropped_total', 'unauthenticated')
        onRefused(client, identity, `publish ${topic}`, 'not authenticated')
        return drop(packet)
      }
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
      const decision = canPublish(identity, topic, payload)
      if (!decision.ok) {
        counters.inc('dispenser_mqtt_dropped_total', 'acl')
        onRefused(client, identity, `publish ${topic}`, decision.reason)
        confirm(client, identity, packet, `publish to ${topic} refused: ${decision.reason}`)
        return drop(packet)
      }
      if (packet.retain) {
        const reason = retainRefusal(topic)
        counters.inc('dispenser_mqtt_dropped_total', 'retain')
        onRefused(client, identity, `publish ${topic}`, reason)
        confirm(client, identity, packet, reason)
        return drop(packet)
      }
      const bucket = bucketFor(client, identity, topic)
      if (bucket && !bucket.take()) {
        counters.inc('dispenser_mqtt_dropped_total', 'rate')
        const notice = rateNotices.get(client) ?? { at: -Infinity, dropped: 0 }
        notice.dropped++
        rateNotices.set(client, notice)
        const now = clock.now()
        if (now - notice.at >= RATE_NOTICE_MS) {
          const limit = identity.kind === 'enrollee' ? `${ENROLL_RATE_PER_S} message/s` : machineOf(identity) !== undefined ? `${config.mqttMachineRate} messages/s` : `${config.mqttRate} messages/s (burst ${config.mqttBurst})`
          confirm(client, identity, packet, `rate limited: at most ${limit} to ${topic}; ${notice.dropped} message(s) dropped`)
          notice.at = now
          notice.dropped = 0
        }
        return drop(packet)
      }
    },
  }
}

/** Where the sender reads replies: a dispenser its command topic, a node its reply topic. */
function replyTarget(identity: ClientIdentity): { topic: string; node: string } | undefined {
  if (identity.kind === 'enrollee') return undefined // it hears only its enrollment topic, and only from the fleet module
  const machine = machineOf(identity)
  if (machine !== undefined) return { topic: machineTopic(machine), node: machineNodeName(machine) }
  const node = identity.kind === 'node' ? identity.node : identity.clientId
  if (!isValidNodeName(node)) return undefined
  const topic = replyTopic(node)
  // never into the hub's own inboxes (a node named "manager" is refused by the CLI, but be sure)
  return NODE_RATED.has(topic) ? undefined : { topic, node }
}

/** `exchange_id` / `request_id` of a refused payload to a topic that is no inbox, to echo; nothing else of it is trusted. */
function echoedIds(raw: Buffer): { exchange_id?: number; request_id?: number } {
  const parsed = parseJsonObject(raw)
  if (!parsed.ok) return {}
  const out: { exchange_id?: number; request_id?: number } = {}
  if (Number.isSafeInteger(parsed.value.exchange_id)) out.exchange_id = parsed.value.exchange_id as number
  if (Number.isSafeInteger(parsed.value.request_id)) out.request_id = parsed.value.request_id as number
  return out
}
