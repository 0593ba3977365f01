/**
 * Who may publish and subscribe where (DESIGN §4). Pure: no Aedes, no I/O.
 *
 * | identity            | publish                                   | subscribe                              |
 * |---------------------|-------------------------------------------|----------------------------------------|
 * | machine N           | external/handler, as N only               | external/machine/N                     |
 * | node, role kiosk    | internal/manager, internal/handler        | internal/kiosk, internal/{own name}    |
 * | node, reservation   | internal/manager, internal/handler        | internal/reservation, internal/{name}  |
 * | node, role admin    | internal/manager, internal/handler        | internal/#, external/#                 |
 * | anonymous (dev)     | as admin; as machine N when id machine_N  | as admin                               |
 * | enrollee (mac M)    | external/enroll/M (its announcement)      | external/enroll/M                      |
 *
 * No node may subscribe under external/enroll/: the hub sends a new bay's secret there. A node's
 * wildcard (`external/#`) still matches it, so the broker never forwards an enrollment topic to
 * anyone but its enrollee (mayForward, used as Aedes's authorizeForward).
 * No client may publish to external/machine/*: only the hub commands dispensers.
 */
import { FIXED_READER_TOPICS, machineOf, roleOf, roleTopic, type ClientIdentity } from '../protocol/identity.js'
import { inboundIdentityRefusal } from '../protocol/inbound.js'
import { enrollTopic, isEnrollTopic, machineTopic, replyTopic, Topics } from '../protocol/topics.js'

export type AclDecision = { ok: true } | { ok: false; reason: string }

const allow: AclDecision = { ok: true }
const deny = (reason: string): AclDecision => ({ ok: false, reason })

const NODE_PUBLISH = new Set<string>([Topics.manager, Topics.handler])

/**
 * `payload` is read only to stop impersonation (a machine reporting as another, a node
 * replying-as another), by the inbound pipeline's own check on its one parse
 * (protocol/inbound.ts): the adapter then gets that same decode, so nothing the adapters act on
 * can slip past this check by its spelling (issue 10 defect 9).
 */
export function canPublish(identity: ClientIdentity, topic: string, payload: Buffer): AclDecision {
  if (identity.kind === 'enrollee') {
    const own = enrollTopic(identity.mac)
    return topic === own ? allow : deny(`the enrollment login may publish only to ${own}`)
  }
  const machineId = machineOf(identity)
  if (machineId !== undefined) {
    if (topic !== Topics.machineHandler) return deny(`machine ${machineId} may publish only to ${Topics.machineHandler}`)
  } else {
    const role = roleOf(identity)
    if (!role) return deny('unknown identity')
    if (!NODE_PUBLISH.has(topic)) return deny(`${role} nodes may publish only to ${[...NODE_PUBLISH].join(' and ')}`)
  }
  const claim = inboundIdentityRefusal(topic, payload, identity)
  return claim === undefined ? allow : deny(claim)
}

/** The hub's inboxes: read once by the hub, so a retained copy has no meaning there. */
const INBOXES = new Set<string>([Topics.manager, Topics.handler, Topics.machineHandler])

/**
 * Why a client's retained publish is refused (issue 10 defect 13). Clients may only publish to
 * the hub's inboxes, where a retained copy would be replayed to every new subscriber (an admin
 * tool on internal/#) and mean nothing: no client publish may be retained.
 */
export function retainRefusal(topic: string): string {
  return INBOXES.has(topic)
    ? `retain is not allowed on ${topic}: it is the hub's inbox and keeps no retained messages`
    : `retain is not allowed on ${topic}`
}

/** Topics whose retained messages the broker drops at start (kept there by older versions). */
export const NO_RETAIN_TOPICS: readonly string[] = [...INBOXES]

export function canSubscribe(identity: ClientIdentity, filter: string): AclDecision {
  if (identity.kind === 'enrollee') {
    const own = enrollTopic(identity.mac)
    return filter === own ? allow : deny(`the enrollment login may subscribe only to ${own}`)
  }
  if (isEnrollTopic(filter) || filter === 'external/enroll' || filter === 'external/+') {
    return deny('enrollment topics carry dispenser secrets: only the enrolling dispenser may read its own')
  }
  const machineId = machineOf(identity)
  if (machineId !== undefined) {
    return filter === machineTopic(machineId) ? allow : deny(`machine ${machineId} may subscribe only to ${machineTopic(machineId)}`)
  }
  const role = roleOf(identity)
  if (role === 'admin') {
    return filter === 'internal/#' || filter === 'external/#' || filter.startsWith('internal/') || filter.startsWith('external/')
      ? allow
      : deny(`admin nodes may subscribe under internal/ and external/ only`)
  }
  if (identity.kind !== 'node' || !role) return deny('unknown identity')
  const own = new Set([roleTopic(role)])
  // A node named e.g. "admin" or "manager" must not reach another role's feed or the hub's inbox by its name.
  const named = replyTopic(identity.node)
  if (!FIXED_READER_TOPICS.has(named)) own.add(named)
  return own.has(filter) ? allow : deny(`node ${identity.node} may subscribe only to ${[...own].join(' and ')}`)
}

/**
 * Whether a message on `topic` may be delivered to `identity` (Aedes authorizeForward). Only
 * enrollment topics are restricted: to the enrollee of that MAC, whatever filter matched.
 */
export function mayForward(identity: ClientIdentity | undefined, topic: string): boolean {
  if (!isEnrollTopic(topic)) return true
  return identity?.kind === 'enrollee' && topic === enrollTopic(identity.mac)
}
