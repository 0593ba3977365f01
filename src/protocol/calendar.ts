/**
 * The venue calendar (issue 14, DESIGN §9 "Calendar"): opening hours per weekday, special days
 * and weekly bay windows, all in HUB_TIMEZONE wall time. One schema for GET/PUT /api/calendar,
 * the stored value and the admin page. Every list and string is bounded: the body is hostile input.
 */
import { Type, type Static } from 'typebox'
import type { PrincipalRole } from './permissions.js'

export const Weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export type Weekday = (typeof Weekdays)[number]
export const Weekday = Type.Enum([...Weekdays])

/** Wall-clock time of a day, `00:00`-`23:59`. */
export const WallClock = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM (00:00-23:59)' })
/** An end time: like WallClock, plus `24:00` (the end of the day). */
export const WallClockEnd = Type.String({ pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$', description: 'HH:MM (00:00-24:00)' })

/** A day's opening hours: `07:00-22:00` (close may be `24:00`), or `closed`. */
export const DayHours = Type.String({
  pattern: '^(closed|([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00))$',
  description: 'HH:MM-HH:MM (open before close; close may be 24:00) or "closed"',
})
export type DayHours = Static<typeof DayHours>

export const WeekHours = Type.Object(
  { mon: DayHours, tue: DayHours, wed: DayHours, thu: DayHours, fri: DayHours, sat: DayHours, sun: DayHours },
  { additionalProperties: false },
)
export type WeekHours = Static<typeof WeekHours>

export const CalendarDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (venue date)' })
export const Reason = Type.String({ minLength: 1, maxLength: 120 })

/** A date whose hours differ from its weekday's: closed all day, or other hours. */
export const SpecialDay = Type.Object(
  { date: CalendarDate, hours: DayHours, reason: Reason },
  { additionalProperties: false },
)
export type SpecialDay = Static<typeof SpecialDay>

/**
 * What a window does to its bays (most restrictive first, calendar.ts RESTRICTION):
 * `closed` nobody books or dispenses; `walk_in_only` kiosk and staff only (reservations refused);
 * `bookable` everyone; `free` everyone, dispensing without payment.
 */
export const WindowKinds = ['closed', 'walk_in_only', 'bookable', 'free'] as const
export type WindowKind = (typeof WindowKinds)[number]

export const MAX_WINDOWS = 200
export const MAX_SPECIAL_DAYS = 400

/**
 * A weekly bay window: bays (ranges like `1-40` or `1,2,5-9`), weekdays, a band `from`-`to`
 * (`to` at or before `from` runs past midnight into the next day; the weekday is the day it
 * starts), optionally only between `starts` and `ends` (venue dates, inclusive, of the start day).
 */
export const BayWindow = Type.Object(
  {
    bays: Type.String({ minLength: 1, maxLength: 200, pattern: '^[0-9 ,-]+$', description: 'bay ranges, e.g. 1-40 or 1,2,5-9' }),
    days: Type.Array(Weekday, { minItems: 1, maxItems: 7, uniqueItems: true }),
    from: WallClock,
    to: WallClockEnd,
    kind: Type.Enum([...WindowKinds]),
    reason: Reason,
    starts: Type.Optional(CalendarDate),
    ends: Type.Optional(CalendarDate),
  },
  { additionalProperties: false },
)
export type BayWindow = Static<typeof BayWindow>

export const Calendar = Type.Object(
  {
    hours: WeekHours,
    special_days: Type.Array(SpecialDay, { maxItems: MAX_SPECIAL_DAYS }),
    windows: Type.Array(BayWindow, { maxItems: MAX_WINDOWS }),
  },
  { additionalProperties: false },
)
export type Calendar = Static<typeof Calendar>

/** A session a calendar change would put outside what its booking may use. */
export const CalendarAffected = Type.Object({
  session_id: Type.Integer(),
  machine_id: Type.Array(Type.Integer()),
  start_time: Type.Number(),
  end_time: Type.Number(),
  origin_node: Type.String(),
  /** the new rule it breaks, e.g. "bay 4 is closed 07:00-09:00 on Tue 2026-12-08 (mowing)" */
  reason: Type.String(),
})
export type CalendarAffected = Static<typeof CalendarAffected>

/** PUT /api/calendar: the whole calendar; `confirm` accepts a change that affects bookings. */
export const CalendarUpdate = Type.Object(
  {
    ...Calendar.properties,
    confirm: Type.Optional(Type.Boolean()),
    /** why (kept in the audit log) */
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
)
export type CalendarUpdate = Static<typeof CalendarUpdate>

export const CalendarReply = Type.Object({
  calendar: Calendar,
  timezone: Type.String(),
  updated_at: Type.Union([Type.Number(), Type.Null()]),
  updated_by: Type.Union([Type.String(), Type.Null()]),
  /** sessions the accepted change affects (PUT only; empty when none) */
  affected: Type.Optional(Type.Array(CalendarAffected)),
})
export type CalendarReply = Static<typeof CalendarReply>

/** Who books: the calendar's walk-in windows let kiosk and staff in, not reservations. */
export const BookingChannels = ['kiosk', 'reservation', 'staff'] as const
export type BookingChannel = (typeof BookingChannels)[number]

/** The channel of a door's caller: staff roles and the admin are the desk, kiosk tokens the kiosk, the rest reservations. */
export function bookingChannelOf(role: PrincipalRole): BookingChannel {
  switch (role) {
    case 'admin':
    case 'manager':
    case 'staff':
      return 'staff'
    case 'kiosk':
      return 'kiosk'
    default:
      return 'reservation'
  }
}
