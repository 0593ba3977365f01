/**
 * Booking details (issue 13): an optional customer name, phone, e-mail and notes on a session.
 * Personal data: shown to staff and to the node that booked the session, never to other
 * kiosk/reservation nodes (they never see others' sessions), kept out of the audit log (only which
 * fields were set), and not sent upstream (uplink, bridge) unless HUB_UPLINK_PERSONAL_DATA=true.
 * One schema for both doors (MQTT Session, HTTP POST/PATCH), with every string capped.
 */
import { Type, type Static } from 'typebox'

/** No control characters in one-line fields (a name with a NUL or an escape is not a name). */
const ONE_LINE = '^[^\\u0000-\\u001f\\u007f]*$'
/** Notes may have line breaks and tabs, no other control characters. */
const MULTI_LINE = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$'

export const BookingDetails = Type.Object(
  {
    customer_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: ONE_LINE, description: "the customer's name" })),
    phone: Type.Optional(Type.String({ minLength: 3, maxLength: 32, pattern: '^\\+?[0-9][0-9 ()./-]*$', description: 'digits, spaces and + ( ) . / -' })),
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@\\u0000-\\u001f]+@[^\\s@\\u0000-\\u001f]+$', description: 'an e-mail address' })),
    notes: Type.Optional(Type.String({ maxLength: 1000, pattern: MULTI_LINE, description: 'free text for staff' })),
  },
  { additionalProperties: false, description: 'optional customer details; {} clears them on a change' },
)
export type BookingDetails = Static<typeof BookingDetails>

const FIELDS = ['customer_name', 'phone', 'email', 'notes'] as const

/** Trimmed, empty fields dropped, fixed key order (so the same details compare equal); undefined when none. */
export function normalizeDetails(details: BookingDetails | undefined): BookingDetails | undefined {
  if (details === undefined) return undefined
  const out: BookingDetails = {}
  for (const field of FIELDS) {
    const value = details[field]?.trim()
    if (value) out[field] = value
  }
  return Object.keys(out).length > 0 ? out : undefined
}

/** Which fields are set: what the audit log keeps of them (never the values). */
export function detailFields(details: BookingDetails | undefined): string[] {
  return FIELDS.filter((f) => details?.[f] !== undefined)
}

/** The same object without booking details at its top level and in `session` / `previous` (uplink, bridge). */
export function withoutPersonalData<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  const v = value as Record<string, unknown>
  if (!('details' in v) && !hasDetails(v.session) && !hasDetails(v.previous)) return value
  const { details: _dropped, ...rest } = v
  for (const key of ['session', 'previous'] as const) {
    if (hasDetails(rest[key])) {
      const { details: _d, ...inner } = rest[key] as Record<string, unknown>
      rest[key] = inner
    }
  }
  return rest as T
}

const hasDetails = (x: unknown): boolean => typeof x === 'object' && x !== null && 'details' in x
