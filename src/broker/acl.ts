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
 *
 * No client may publish to external/machine/*: only the hub commands dispensers.
 */
import { FIXED_READER_TOPICS, machineOf, roleOf, roleTopic, type ClientIdentity } from '../protocol/identity.js'
import { machineIdFromNode, machineTopic, replyTopic, Topics } from '../protocol/topics.js'

export type AclDecision = { ok: true } | { ok: false; reason: string }

const allow: AclDecision = { ok: true }
const deny = (reason: string): AclDecision => ({ ok: false, reason })

const NODE_PUBLISH = new Set<string>([Topics.manager, Topics.handler])

/** `payload` is read only to stop impersonation: a machine reporting as another, a node replying-as another. */
export function canPublish(identity: ClientIdentity, topic: string, payload: Buffer): AclDecision {
  const machineId = machineOf(identity)
  if (machineId !== undefined) {
    if (topic !== Topics.machineHandler) return deny(`machine ${machineId} may publish only to ${Topics.machineHandler}`)
    const claimed = claimedNames(payload)
    if (claimed.machine_id !== undefined && claimed.machine_id !== machineId) {
      return deny(`machine ${machineId} may not publish as machine_id ${shown(claimed.machine_id)}`)
    }
    if (typeof claimed.origin_node === 'string' && machineIdFromNode(claimed.origin_node) !== machineId) {
      return deny(`machine ${machineId} may not publish as origin_node ${claimed.origin_node}`)
    }
    return allow
  }
  const role = roleOf(identity)
  if (!role) return deny('unknown identity')
  if (!NODE_PUBLISH.has(topic)) return deny(`${role} nodes may publish only to ${[...NODE_PUBLISH].join(' and ')}`)
  if (role !== 'admin' && identity.kind === 'node') {
    const origin = claimedNames(payload).origin_node
    if (typeof origin === 'string' && origin !== identity.node) {
      return deny(`node ${identity.node} may not publish as origin_node ${origin}`)
    }
  }
  return allow
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
 * A claimed value in a refusal message. Never String() of an object: a 10,000-deep array in a payload
 * overflowed the stack there, an uncaught RangeError in the publish hook that stopped the hub.
 */
function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value)
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 64))
  return Array.isArray(value) ? 'a list' : `a value of type ${typeof value}`
}

/** The identity fields a payload claims, when it is a JSON object; else nothing (bad input is the adapter's job). */
function claimedNames(payload: Buffer): { machine_id?: unknown; origin_node?: unknown } {
  if (payload.length === 0 || payload.length > 64 * 1024 || payload[0] !== 0x7b /* { */) return {}
  try {
    const value = JSON.parse(payload.toString('utf8')) as unknown
    return typeof value === 'object' && value !== null ? (value as { machine_id?: unknown; origin_node?: unknown }) : {}
  } catch {
    return {}
  }
}
