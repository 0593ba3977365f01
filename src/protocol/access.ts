/**
 * Who may read what, for both doors (issue 10 defect 10): the REST routes and the MQTT
 * adapters ask these functions, so a kiosk sees over MQTT exactly what its token shows over
 * HTTP. Pure; an Actor is an HTTP principal or an MQTT login (node name + role).
 */
import type { Role } from './identity.js'

export interface Actor {
  /** the node / token name; owner of the sessions it creates */
  name: string
  role: Role
}

/** Machine state (addresses, firmware, every bay) is for admins: GET /api/machines, Request `machine`. */
export const MACHINE_READ_ROLES: readonly Role[] = ['admin']

/** A session belongs to the node that created it; only it and admins may see or change it. */
export function mayAccessSession(actor: Actor, session: { origin_node: string }): boolean {
  return actor.role === 'admin' || session.origin_node === actor.name
}

/** The refusal text when `actor` may not read `session`, else undefined. */
export function sessionReadRefusal(actor: Actor, session: { session_id: number; origin_node: string }): string | undefined {
  return mayAccessSession(actor, session) ? undefined : `session ${session.session_id} belongs to ${session.origin_node}`
}

/** The refusal text when `actor` may not read machine state, else undefined. */
export function machineReadRefusal(actor: Actor): string | undefined {
  return MACHINE_READ_ROLES.includes(actor.role) ? undefined : `role ${actor.role} may not read machine state (needs ${MACHINE_READ_ROLES.join(' or ')})`
}
