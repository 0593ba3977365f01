/**
 * The audit log's entry (DESIGN §9 "Audit"): who, when, what, before/after and the reason,
 * one per change, written in the same LevelDB batch as the change it records.
 */
import { Type, type Static } from 'typebox'
import { ActorLabel } from './actor.js'

export const AuditKinds = [
  'session.created',
  'session.updated', // extended or shortened
  'session.moved', // other bays or another start
  'session.cancelled',
  'maintenance.created',
  'maintenance.updated',
  'maintenance.cancelled',
  'machine.override',
  'calendar.changed', // opening hours, special days or bay windows (issue 14)
  'alert.acknowledged',
  'staff.added',
  'staff.removed',
  'staff.role',
  'staff.password',
  'staff.signed_out',
] as const
export type AuditKind = (typeof AuditKinds)[number]

export const AuditEntry = Type.Object({
  /** time-ordered and unique: `<epoch ms, 15 digits>-<n>` */
  id: Type.String(),
  /** epoch s */
  at: Type.Number(),
  actor: ActorLabel,
  kind: Type.Enum([...AuditKinds]),
  session_id: Type.Optional(Type.Integer()),
  machine_id: Type.Optional(Type.Array(Type.Integer())),
  /** the staff user a staff change is about */
  target: Type.Optional(Type.String()),
  before: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  after: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  reason: Type.Optional(Type.String({ maxLength: 500 })),
})
export type AuditEntry = Static<typeof AuditEntry>

/** An entry before the log gives it an id (ids are allocated in order at write time). */
export type AuditDraft = Omit<AuditEntry, 'id'>
