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
  'session.details', // customer name / phone / e-mail / notes changed (the entry names the fields, never their values)
  'session.expired', // issue 12: a hold ran out unpaid
  'session.released', // issue 12: a reservation's no-show
  'session.checked_in',
  'payment.recorded',
  'payment.refund_requested', // paid after the hold expired
  'prices.changed',
  'maintenance.created',
  'maintenance.updated',
  'maintenance.cancelled',
  'machine.override', // an admin stop / start (or a node's direct command) held on a bay
  'machine.maintenance', // an admin override putting a bay in maintenance
  'machine.released', // an override dropped: the bay follows the schedule again
  'calendar.changed', // opening hours, special days or bay windows (issue 14)
  'alert.acknowledged',
  'credential.added', // credentials.json: an API token, interface node or dispenser login (target names it)
  'credential.rotated',
  'credential.removed',
  'clock.confirmed', // staff confirmed the hub's time from a tablet (issue 15)
  'credit.issued', // minutes lost on a bay that could not dispense (issue 11)
  'credit.redeemed',
  'staff.added',
  'staff.removed',
  'staff.role',
  'staff.password',
  'staff.signed_out',
  // fleet (issue 16): adoption and firmware updates; `target` is the device's MAC where there is one
  'enrollment.opened',
  'enrollment.closed',
  'device.identified',
  'device.assigned',
  'device.adopted',
  'firmware.uploaded',
  'rollout.started',
  'rollout.paused',
  'rollout.resumed',
  'rollout.cancelled',
  'rollout.bay',
] as const
export type AuditKind = (typeof AuditKinds)[number]

/** Why a change was made, as staff type it (the routes that change something accept it). */
export const Reason = Type.String({ minLength: 1, maxLength: 200, description: 'why (kept in the audit log)' })

export const AuditEntry = Type.Object({
  /** time-ordered and unique: `<epoch ms, 15 digits>-<n>` */
  id: Type.String(),
  /** epoch s */
  at: Type.Number(),
  actor: ActorLabel,
  kind: Type.Enum([...AuditKinds]),
  session_id: Type.Optional(Type.Integer()),
  machine_id: Type.Optional(Type.Array(Type.Integer())),
  /** what a change is about when it is not a session or bay: the staff user, `token:NAME`, `node:NAME`, `machine:ID` */
  target: Type.Optional(Type.String()),
  before: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  after: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  reason: Type.Optional(Type.String({ maxLength: 500 })),
})
export type AuditEntry = Static<typeof AuditEntry>

/** An entry before the log gives it an id (ids are allocated in order at write time). */
export type AuditDraft = Omit<AuditEntry, 'id'>
