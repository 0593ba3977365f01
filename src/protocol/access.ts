/**
 * Who may read what, for both doors (issue 10 defect 10): the REST routes and the MQTT
 * adapters ask these functions, so a kiosk sees over MQTT exactly what its token shows over
 * HTTP. Pure; an Actor is an HTTP principal or an MQTT login (node name + role).
 */
import type { Role } from './identity.js'
import { can, rolesWith, type PrincipalRole } from './permissions.js'

/** An MQTT login (node name + role). */
export interface Actor {
  /** the node / token name; owner of the sessions it creates */
  name: string
  role: Role
}

/** Whoever reads: an MQTT login or an HTTP principal (token or staff user). */
export interface Reader {
  name: string
  role: PrincipalRole
}

/** Machine state (addresses, firmware, every bay): GET /api/machines, Request `machine` (permissions.ts). */
export const MACHINE_READ_ROLES: readonly PrincipalRole[] = rolesWith('machines.read')

/** A session belongs to the node that created it; only it and roles with sessions.all may see it. */
export function mayAccessSession(actor: Reader, session: { origin_node: string }): boolean {
  return can(actor.role, 'sessions.all') || session.origin_node === actor.name
}

/** The refusal text when `actor` may not read `session`, else undefined. */
export function sessionReadRefusal(actor: Reader, session: { session_id: number; origin_node: string }): string | undefined {
  return mayAccessSession(actor, session) ? undefined : `session ${session.session_id} belongs to ${session.origin_node}`
}

/** The refusal text when `actor` may not read machine state, else undefined. */
export function machineReadRefusal(actor: Reader): string | undefined {
  return can(actor.role, 'machines.read') ? undefined : `role ${actor.role} may not read machine state (needs ${MACHINE_READ_ROLES.join(' or ')})`
}
