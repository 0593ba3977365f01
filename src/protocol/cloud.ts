/**
 * What the cloud link exchanges with the cloud service (README "Cloud link"): reservations in
 * (pulled or pushed to the webhook), reservation outcomes and venue events out.
 */
import { Type, type Static } from 'typebox'
import { MachineId, SessionId } from './messages.js'

export const CloudReservation = Type.Object({
  external_id: Type.String({ minLength: 1, maxLength: 128, description: 'the reservation id upstream' }),
  bays: Type.Array(MachineId, { minItems: 1, maxItems: 64 }),
  start: Type.Union([Type.Number({ minimum: 0 }), Type.String({ minLength: 10 })], { description: 'epoch seconds or ISO 8601' }),
  duration_minutes: Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 }),
  status: Type.Enum(['booked', 'cancelled']),
  customer: Type.Optional(Type.String({ maxLength: 200 })),
  updated_at: Type.Optional(
    Type.Union([Type.Number({ minimum: 0 }), Type.String({ minLength: 10, maxLength: 64 })], {
      description: 'version of the reservation upstream (epoch seconds or ISO 8601); an older version than the one applied is ignored',
    }),
  ),
})
export type CloudReservation = Static<typeof CloudReservation>

/** GET {HUB_CLOUD_URL}/reservations?since=<cursor> answers this. */
export const CloudReservationPage = Type.Object({
  reservations: Type.Array(Type.Unknown()),
  cursor: Type.Optional(Type.String()),
})
export type CloudReservationPage = Static<typeof CloudReservationPage>

/** POST {HUB_CLOUD_URL}/reservations/{external_id}/status */
export const ReservationOutcome = Type.Object({
  external_id: Type.String(),
  /** `stale`: an older version (updated_at) than the one already applied; ignored, nothing changed */
  status: Type.Enum(['confirmed', 'refused', 'cancelled', 'stale']),
  session_id: Type.Optional(SessionId),
  reason: Type.Optional(Type.String()),
  site_id: Type.String(),
})
export type ReservationOutcome = Static<typeof ReservationOutcome>

/** One venue event as POSTed to HUB_UPLINK_URL in `{ "events": [...] }`; `id` is stable for de-duplication. */
export const UplinkEvent = Type.Object({
  id: Type.String({ description: '<site_id>:<seq>' }),
  seq: Type.Integer(),
  site_id: Type.String(),
  type: Type.Enum(['session.changed', 'machine.changed', 'alert.raised', 'alert.cleared', 'session.affected', 'credit.changed']),
  at: Type.Number({ description: 'epoch seconds' }),
  data: Type.Unknown(),
})
export type UplinkEvent = Static<typeof UplinkEvent>
