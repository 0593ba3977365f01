/**
 * Who made a change (DESIGN §9 "Audit"): passed by every door into the module call that
 * changes something, and recorded with the change. One small union, one text form.
 */
import { Type, type Static } from 'typebox'

export type Actor =
  /** a staff user signed in with a password */
  | { kind: 'staff'; name: string }
  /** an HTTP bearer token (its name; `admin_portal` for the admin token) */
  | { kind: 'token'; name: string }
  /** an MQTT interface node (its login name), or the CLI */
  | { kind: 'node'; name: string }
  /** a dispenser */
  | { kind: 'machine'; id: number }
  /** the hub itself: lifecycle, retention, reconciliation */
  | { kind: 'system' }

export const SYSTEM: Actor = { kind: 'system' }

/** `staff:alice`, `token:lobby-kiosk`, `node:kiosk_interface`, `machine:4`, `system`. */
export function actorLabel(actor: Actor): string {
  switch (actor.kind) {
    case 'staff':
    case 'token':
    case 'node':
      return `${actor.kind}:${actor.name}`
    case 'machine':
      return `machine:${actor.id}`
    case 'system':
      return 'system'
  }
}

/** The text form as it appears in audit entries and filters. */
export const ActorLabel = Type.String({ maxLength: 160, description: 'staff:NAME, token:NAME, node:NAME, machine:ID or system' })
export type ActorLabel = Static<typeof ActorLabel>
