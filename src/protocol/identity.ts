/**
 * Who a client is, defined once for both doors (MQTT and HTTP): roles, the identity the broker
 * gives an authenticated MQTT client, and the helpers that read it. Credentials, the ACL, HTTP
 * auth, the machines adapter and the CLI all import these; nothing else defines a role list.
 */
import { isValidNodeName, machineIdFromNode, NodeNames, replyTopic, Topics } from './topics.js'

export const ROLES = ['admin', 'kiosk', 'reservation'] as const
export type Role = (typeof ROLES)[number]

/** Own-list check, so a name like `constructor` is simply not a role. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}

/** The authenticated sender of an MQTT packet (set by the broker at CONNECT). */
export type ClientIdentity =
  | { kind: 'machine'; clientId: string; machineId: number; keepalive: number }
  | { kind: 'node'; clientId: string; node: string; role: Role }
  | { kind: 'anonymous'; clientId: string }
  /** an unadopted dispenser on the shared enrollment login (issue 16): its own external/enroll/{mac} only */
  | { kind: 'enrollee'; clientId: string; mac: string; keepalive: number }

/** The machine an identity acts as, if any: an anonymous dev client named machine_N counts as machine N. */
export function machineOf(identity: ClientIdentity): number | undefined {
  if (identity.kind === 'machine') return identity.machineId
  if (identity.kind === 'anonymous') return machineIdFromNode(identity.clientId)
  return undefined
}

/** The node role an identity acts with: anonymous dev clients that are not machines act as admin. */
export function roleOf(identity: ClientIdentity): Role | undefined {
  if (identity.kind === 'node') return identity.role
  if (identity.kind === 'anonymous' && machineOf(identity) === undefined) return 'admin'
  return undefined
}

/** The feed each role reads (DESIGN §4). */
export function roleTopic(role: Role): string {
  switch (role) {
    case 'admin':
      return Topics.admin
    case 'kiosk':
      return Topics.kiosk
    case 'reservation':
      return Topics.reservation
  }
}

/** Topics whose readers are fixed: the hub's inboxes and the role feeds. */
export const FIXED_READER_TOPICS: ReadonlySet<string> = new Set<string>([
  Topics.manager,
  Topics.handler,
  Topics.admin,
  Topics.kiosk,
  Topics.reservation,
])

/**
 * Why `name` can't be an MQTT node of `role`, or undefined when it can (the CLI asks before adding).
 * Its reply topic (DESIGN §4) must be its own: not a machine, not a hub node, not another role's feed.
 */
export function nodeNameProblem(name: string, role: Role): string | undefined {
  if (!isValidNodeName(name)) return `"${name}" may use letters, digits, _ . - only (max 64)`
  if (machineIdFromNode(name) !== undefined) return `"${name}" is a machine name; use "machine add"`
  if (name === NodeNames.scheduleManager || name === NodeNames.machineHandler) return `"${name}" is a hub node`
  const reply = replyTopic(name)
  if (FIXED_READER_TOPICS.has(reply) && reply !== roleTopic(role)) return `"${name}" would receive ${reply}, which a ${role} node may not read`
  return undefined
}
