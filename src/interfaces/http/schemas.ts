/**
 * REST-only shapes. Everything that is also a message (Session, SessionRecord, Schedule,
 * MachineState, Alert, ...) comes from src/protocol and is not declared again here.
 */
import { ALL_PRINCIPAL_ROLES } from '../../protocol/permissions.js'
import { Type, type Static } from 'typebox'
import { ClockStatus } from '../../protocol/clock.js'
import { Reason } from '../../protocol/audit.js'
import { BookingDetails } from '../../protocol/details.js'
export { AvailabilityQuery } from '../../protocol/messages.js'
import {
  Alert,
  CommandStatus,
  EpochSeconds,
  IsoDate,
  MachineId,
  ScheduleFormat,
  MachineReport,
  MachineState,
  MAX_EPOCH_S,
  SessionId,
  SessionRecord,
  SessionStatus,
} from '../../protocol/messages.js'
import { MAX_KEY_LENGTH } from '../../scheduling/index.js'
import { Money } from '../../protocol/payments.js'

/** DESIGN §6: every error body. */
export const ErrorBody = Type.Object({
  error: Type.String({ description: 'machine-readable code, e.g. SESSION_CONFLICT' }),
  message: Type.String({ description: 'what went wrong, naming the field or the conflicting session/bay' }),
})

export const SessionParams = Type.Object({ id: SessionId })

/** POST /api/sessions: an optional client idempotency key (scheduling/idempotency.ts: 1-128 printable characters). */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: MAX_KEY_LENGTH, pattern: '^[\\x21-\\x7e]+$', description: 'retry key, remembered 24 h' }),
  ),
})
export const MachineParams = Type.Object({ id: MachineId })
export const AlertParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) })

export const DateQuery = Type.Object({
  date: Type.Optional(IsoDate),
})

/** GET /api/schedule: a day and the reply's shape (issue 17: `runs` unless `format=slots`). */
export const ScheduleQuery = Type.Object({
  date: Type.Optional(IsoDate),
  format: Type.Optional(ScheduleFormat),
})

export const SessionListQuery = Type.Object({
  date: Type.Optional(IsoDate),
  machine_id: Type.Optional(MachineId),
  status: Type.Optional(SessionStatus),
})

/** DELETE /api/sessions/:id?reason=... */
export const CancelQuery = Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false })

/** PATCH /api/sessions/:id: move (machine_id, start_time) or extend/shorten (duration). */
export const SessionPatch = Type.Object(
  {
    machine_id: Type.Optional(Type.Union([MachineId, Type.Array(MachineId, { minItems: 1, maxItems: 64 })])),
    start_time: Type.Optional(EpochSeconds),
    duration: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 24 * 3600, description: 'seconds' })),
    reason: Type.Optional(Reason),
    details: Type.Optional(BookingDetails),
  },
  { minProperties: 1, additionalProperties: false },
)
export type SessionPatch = Static<typeof SessionPatch>

export const AvailabilityReply = Type.Object({
  options: Type.Array(
    Type.Object({
      machine_id: Type.Array(MachineId),
      start_time: EpochSeconds,
      end_time: EpochSeconds,
      /** issue 12: what the option costs (all its bays), once a price table is saved */
      quote: Type.Optional(Money),
    }),
  ),
})

/** POST /api/machines/:id/override. `status` is needed unless `release` is true. */
export const OverrideBody = Type.Object(
  {
    status: Type.Optional(CommandStatus),
    scheduled_until: Type.Optional(Type.Union([EpochSeconds, Type.Null()], { description: 'until when (epoch s); null = until released' })),
    release: Type.Optional(Type.Boolean({ description: 'drop the override: the bay follows the schedule again' })),
    confirm: Type.Optional(Type.Boolean({ description: 'stop / maintenance on a bay with a running or upcoming session: yes, do it' })),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'why (needed with confirm)' })),
  },
  { additionalProperties: false },
)

export const MachineDetail = Type.Object({
  machine: MachineState,
  history: Type.Array(Type.Object({ received_at: Type.Number(), report: MachineReport })),
})

export const SessionList = Type.Array(SessionRecord)
export const MachineList = Type.Array(MachineState)
export const AlertList = Type.Array(Alert)

export const Health = Type.Object(
  {
    ok: Type.Boolean(),
    version: Type.String(),
    uptime_s: Type.Number(),
    machines: Type.Object({ online: Type.Integer(), total: Type.Integer() }),
    clock: Type.Optional(ClockStatus),
  },
  { additionalProperties: true },
)

export const Me = Type.Object({
  name: Type.String(),
  role: Type.Enum([...ALL_PRINCIPAL_ROLES]),
  user: Type.Optional(Type.String({ description: 'the staff user, when signed in with a password' })),
})

/** Standard error replies for OpenAPI, merged into each route's `response`. */
export const authErrors = { 401: ErrorBody, 403: ErrorBody } as const
