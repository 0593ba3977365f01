/**
 * Who may do what, defined once (DESIGN §9 "Roles"). API tokens carry a token role; staff sign
 * in with a password and carry a staff role. Every HTTP route names one Permission and the live
 * feed filters by them, so a new role or a changed grant is one edit here.
 */

/** Roles of bearer tokens (credentials.json `tokens`, plus the admin token). */
export const ApiTokenRoles = ['admin', 'kiosk', 'reservation', 'monitor'] as const
export type ApiTokenRole = (typeof ApiTokenRoles)[number]

/** Roles of staff users signed in with a password (users.json). */
export const StaffRoles = ['manager', 'staff', 'viewer'] as const
export type StaffRole = (typeof StaffRoles)[number]

export type PrincipalRole = ApiTokenRole | StaffRole

export const PermissionNames = [
  'me.read', // who am I
  'schedule.read', // schedule grid and availability
  'sessions.read', // read sessions (own, unless sessions.all)
  'sessions.book', // create, move, extend, cancel sessions (own, unless sessions.any)
  'sessions.all', // see every node's sessions
  'sessions.any', // change every node's sessions
  'maintenance.block', // book maintenance blocks
  'machines.read', // bay state, reports, alerts list
  'machines.override', // overrides (maintenance, stop, start, release)
  'alerts.ack',
  'clock.set', // confirm the hub's time from a tablet while the system clock is not synchronised (issue 15)
  'live.read', // the WebSocket feed (what it carries follows the other permissions)
  'metrics.read', // Prometheus /metrics
  'audit.read', // the audit log
  'reports.read', // CSV exports and utilization reports
  'staff.manage', // add, remove, change staff users; sign them out
  'fleet.adopt', // open enrollment, identify and assign new dispensers (issue 16)
  'firmware.manage', // upload firmware images, start and steer rollouts (issue 16)
  'calendar.manage', // read and change the venue calendar: hours, special days, bay windows (issue 14)
  'prices.manage', // issue 12: read and replace the price table
  'payments.take', // issue 12: mark a session paid at the counter
  'payments.read', // issue 12: payment records and today's takings
] as const
export type Permission = (typeof PermissionNames)[number]

const READ: Permission[] = ['me.read', 'schedule.read', 'sessions.read', 'live.read']
const BOOK: Permission[] = [...READ, 'sessions.book']
// Reports (exports, heat-map) are reading: the counter and viewers (read only: issue 13 roles) see them.
const COUNTER: Permission[] = [...BOOK, 'sessions.all', 'sessions.any', 'maintenance.block', 'machines.read', 'machines.override', 'alerts.ack', 'clock.set', 'audit.read', 'fleet.adopt', 'reports.read', 'payments.take', 'payments.read']

const GRANTS: Record<PrincipalRole, ReadonlySet<Permission>> = {
  admin: new Set(PermissionNames),
  manager: new Set(PermissionNames),
  staff: new Set(COUNTER),
  viewer: new Set([...READ, 'sessions.all', 'machines.read', 'audit.read', 'reports.read']),
  kiosk: new Set(BOOK),
  reservation: new Set(BOOK),
  // Prometheus holds this one: it reads /metrics (and the public /api/health), nothing else.
  monitor: new Set(['metrics.read']),
}

export const ALL_PRINCIPAL_ROLES: readonly PrincipalRole[] = [...ApiTokenRoles, ...StaffRoles]

export function can(role: PrincipalRole, permission: Permission): boolean {
  return GRANTS[role]?.has(permission) ?? false
}

/** The roles holding a permission, for 403 messages and the docs. */
export function rolesWith(permission: Permission): PrincipalRole[] {
  return ALL_PRINCIPAL_ROLES.filter((role) => can(role, permission))
}

export function isStaffRole(value: unknown): value is StaffRole {
  return typeof value === 'string' && (StaffRoles as readonly string[]).includes(value)
}

export function isApiTokenRole(value: unknown): value is ApiTokenRole {
  return typeof value === 'string' && (ApiTokenRoles as readonly string[]).includes(value)
}
