/**
 * The hub's clock as /api/health, /api/clock, the live feed and internal/admin show it (issue 15:
 * time you can trust). One schema, used by the routes, the feed and the tests.
 */
import { Type, type Static } from 'typebox'
import { Reason } from './audit.js'
import { EpochSeconds } from './messages.js'

/** Which time-sync service answered: systemd-timesyncd (or whatever set the kernel's NTP flag), chrony, or none. */
export const TimeSyncService = Type.Union([Type.Literal('timesyncd'), Type.Literal('chrony'), Type.Null()])
export type TimeSyncService = Static<typeof TimeSyncService>

/** Where the hub's time comes from now: a synchronised system clock, staff, or an unchecked system clock. */
export const ClockSource = Type.Enum(['ntp', 'staff', 'system'])
export type ClockSource = Static<typeof ClockSource>

export const ClockStatus = Type.Object({
  synchronised: Type.Union([Type.Boolean(), Type.Null()], { description: 'the system clock is NTP-synchronised; null when no time-sync service could be asked' }),
  service: TimeSyncService,
  source: ClockSource,
  trusted: Type.Boolean({ description: 'false while the system clock is not synchronised and no staff member confirmed the time' }),
  offset_ms: Type.Integer({ description: 'hub time minus the system clock, in ms (0 unless staff confirmed the time)' }),
  now: EpochSeconds,
  system_now: EpochSeconds,
  confirmed_at: Type.Union([EpochSeconds, Type.Null()]),
  confirmed_by: Type.Union([Type.String(), Type.Null()]),
  checked_at: Type.Union([EpochSeconds, Type.Null()]),
  detail: Type.String(),
})
export type ClockStatus = Static<typeof ClockStatus>

/** 2020-01-01 .. 2100-01-01: a tablet outside this has no clock worth taking either. */
export const CONFIRM_MIN_MS = Date.UTC(2020, 0, 1)
export const CONFIRM_MAX_MS = Date.UTC(2100, 0, 1)

export const ClockConfirm = Type.Object(
  {
    epoch_ms: Type.Integer({ minimum: CONFIRM_MIN_MS, maximum: CONFIRM_MAX_MS, description: "the tablet's clock (Date.now()) when it sent the request" }),
    reason: Type.Optional(Reason),
  },
  { additionalProperties: false },
)
export type ClockConfirm = Static<typeof ClockConfirm>
