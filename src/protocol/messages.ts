/**
 * Every payload of DESIGN §4 as one TypeBox schema with a same-named type.
 * Routes, the MQTT codec, the WebSocket feed and tests all use these constants.
 * Objects allow extra properties so newer peers can add fields without breaking older hubs.
 */
import { Type, type Static } from 'typebox'
import { BookingDetails } from './details.js'
import { Money, PaymentClaim, PaymentRecord, PaymentRequest } from './payments.js'

export const MachineId = Type.Integer({ minimum: 1, maximum: 9999, description: 'bay / machine number' })
export type MachineId = Static<typeof MachineId>

/**
 * The latest instant any message may name (2^32 s, year 2106). A static bound so that a value
 * like 1e300 is refused by the schema, naming the field, before any date arithmetic sees it;
 * bookings are further held to now + 400 days by scheduling (rules.ts bookingWindow).
 */
export const MAX_EPOCH_S = 2 ** 32
export const EpochSeconds = Type.Number({ minimum: 0, maximum: MAX_EPOCH_S, description: 'Unix epoch seconds (float allowed)' })
/** Session ids are the hub's (issue 10): small, bounded, never chosen by a client for a new session. */
export const MAX_SESSION_ID = 2 ** 31 - 1
export const SessionId = Type.Integer({ minimum: 1, maximum: MAX_SESSION_ID })
export type SessionId = Static<typeof SessionId>
export const ExchangeId = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
export const NodeName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' })

/** Fields any message may carry (DESIGN §4). */
export const Envelope = {
  timestamp: Type.Optional(EpochSeconds),
  origin_node: Type.Optional(NodeName),
  destination_node: Type.Optional(NodeName),
  exchange_id: Type.Optional(ExchangeId),
}

export const MachineStatus = Type.Enum(['idle', 'active', 'maintenance', 'error', 'offline'])
export type MachineStatus = Static<typeof MachineStatus>

/** The states a machine can be commanded into. */
export const CommandStatus = Type.Enum(['idle', 'active', 'maintenance'])
export type CommandStatus = Static<typeof CommandStatus>

export const BallLevel = Type.Enum(['full', 'medium', 'low', 'urgent', 'empty'])
export type BallLevel = Static<typeof BallLevel>

/** `held` (issue 12): payment pending; bays blocked, dispenser off, expires at `hold_until` unless paid. */
export const SessionStatus = Type.Enum(['held', 'reserved', 'active', 'completed', 'cancelled', 'maintenance'])
export type SessionStatus = Static<typeof SessionStatus>

/** Statuses a node may submit: book, block, cancel. */
export const SessionSubmitStatus = Type.Enum(['reserved', 'maintenance', 'cancelled'])
export type SessionSubmitStatus = Static<typeof SessionSubmitStatus>

// ---------------------------------------------------------------- interface nodes

/** Session create / update / cancel on internal/manager. */
export const Session = Type.Object({
  machine_id: Type.Union([MachineId, Type.Array(MachineId, { minItems: 1, maxItems: 64 })]),
  session_id: Type.Optional(SessionId),
  status: SessionSubmitStatus,
  start_time: Type.Optional(EpochSeconds),
  duration: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 24 * 3600, description: 'seconds' })),
  /** admin only: book a bay that is not sellable (unhealthy, outside opening hours) anyway */
  force: Type.Optional(Type.Boolean()),
  /** why (a move, a cancel...): kept in the audit log, not in the session */
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  /** customer name, phone, e-mail, notes; on a change, absent keeps them and {} clears them */
  details: Type.Optional(BookingDetails),
  /** a kiosk app that took the money itself (issue 12): booked `reserved` at once, the payment recorded */
  payment: Type.Optional(PaymentClaim),
  ...Envelope,
})
export type Session = Static<typeof Session>

export const RequestType = Type.Enum(['session', 'schedule', 'machine'])
export type RequestType = Static<typeof RequestType>

export const IsoDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD in HUB_TIMEZONE' })

/**
 * Which shape a schedule reply takes (issue 17): `runs` (ScheduleRuns, compact, the HTTP default)
 * or `slots` (Schedule, the seed's one-row-per-slot shape, the MQTT default: deployed nodes read it).
 */
export const ScheduleFormat = Type.Enum(['runs', 'slots'], { description: 'reply shape: runs (compact, per bay) or slots (one row per slot)' })
export type ScheduleFormat = Static<typeof ScheduleFormat>

export const Request = Type.Object({
  request_id: Type.Optional(ExchangeId),
  request_type: RequestType,
  session_id: Type.Optional(SessionId),
  date: Type.Optional(IsoDate),
  machine_id: Type.Optional(MachineId),
  /** `schedule` only: the reply's shape (default `slots`, the seed's) */
  format: Type.Optional(ScheduleFormat),
  ...Envelope,
})
export type Request = Static<typeof Request>

export const Confirmation = Type.Object({
  success: Type.Boolean(),
  message: Type.Optional(Type.String()),
  session_id: Type.Optional(Type.Union([SessionId, Type.Null()])),
  status: Type.Optional(Type.String()),
  machine_id: Type.Optional(Type.Union([MachineId, Type.Array(MachineId)])),
  request_id: Type.Optional(ExchangeId),
  ...Envelope,
})
export type Confirmation = Static<typeof Confirmation>

/** A stored session as the hub knows it (REST, WS feed, Session messages to nodes). */
export const SessionRecord = Type.Object({
  session_id: SessionId,
  machine_id: Type.Array(MachineId, { minItems: 1 }),
  status: SessionStatus,
  start_time: EpochSeconds,
  end_time: EpochSeconds,
  duration: Type.Integer(),
  origin_node: Type.String(),
  external_id: Type.Optional(Type.String()),
  /** who booked it (audit actor label: `staff:mia`, `token:lobby-kiosk`, `node:kiosk_interface`) */
  booked_by: Type.Optional(Type.String()),
  /** how it was booked (issue 14: walk-in-only windows admit kiosk and staff, not reservations) */
  channel: Type.Optional(Type.Enum(['kiosk', 'reservation', 'staff'])),
  /** customer details (personal data: staff and the owning node only; see protocol/details.ts) */
  details: Type.Optional(BookingDetails),
  created_at: EpochSeconds,
  updated_at: EpochSeconds,
  /** REST only: seconds the session could not dispense (issue 11; its credits at GET /api/credits) */
  lost_seconds: Type.Optional(Type.Integer({ minimum: 0 })),
  /** issue 12: the price it was sold at (quote when booked; extensions add theirs) */
  price: Type.Optional(Money),
  /** `held`: when the hold expires unless paid (epoch s) */
  hold_until: Type.Optional(EpochSeconds),
  /** payments and refund requests recorded for this session (durable, in the same write as the status) */
  payments: Type.Optional(Type.Array(PaymentRecord)),
  /** the terminal payment the hub is waiting on */
  payment_request: Type.Optional(PaymentRequest),
  /** why it was released without anyone cancelling it */
  released: Type.Optional(Type.Enum(['hold_expired', 'no_show', 'merged'])),
  /** reservations: a check-in is expected by this time, else the no-show rule releases it (epoch s) */
  no_show_at: Type.Optional(EpochSeconds),
  checked_in_at: Type.Optional(EpochSeconds),
  /** a kiosk extension hold: the session it extends once paid */
  extends: Type.Optional(SessionId),
})
export type SessionRecord = Static<typeof SessionRecord>

/**
 * `unavailable`: free, but the bay cannot be sold then (maintenance, error, offline, admin override).
 * `closed` / `walk_in_only` (issue 14): free, but the venue calendar closes the bay then, or keeps
 * it for the kiosk and the desk (a `reason` names the window). Taken slots keep their status.
 * `held` (issue 12): taken by a booking waiting for its payment.
 */
export const SlotStatus = Type.Enum(['available', 'held', 'reserved', 'active', 'maintenance', 'unavailable', 'closed', 'walk_in_only'])
export type SlotStatus = Static<typeof SlotStatus>

export const ScheduleCell = Type.Object({
  machine_id: MachineId,
  status: SlotStatus,
  session_id: Type.Optional(SessionId),
  /** why an `unavailable` / `closed` / `walk_in_only` cell cannot be sold, e.g. "bay 37 is in maintenance until 18:00", "closed: mowing" */
  reason: Type.Optional(Type.String()),
})
export type ScheduleCell = Static<typeof ScheduleCell>

/** Schedule reply: one row per slot, `["10:30", cell, cell, ...]`. */
export const Schedule = Type.Object({
  date: IsoDate,
  slot_minutes: Type.Integer(),
  /** epoch s of the first row (rows follow every slot_minutes; labels alone are ambiguous on a fall-back day) */
  first_slot: Type.Optional(EpochSeconds),
  machines: Type.Array(MachineId),
  schedule: Type.Array(Type.Array(Type.Union([Type.String(), ScheduleCell]))),
  request_id: Type.Optional(ExchangeId),
  ...Envelope,
})
export type Schedule = Static<typeof Schedule>

/**
 * The status table of a ScheduleRuns reply, in this order: a run names its status by index here.
 * Sent in every reply (`statuses`) so readers need not hard-code it; new statuses are appended.
 */
export const RUN_STATUSES: readonly SlotStatus[] = ['available', 'held', 'reserved', 'active', 'maintenance', 'unavailable', 'closed', 'walk_in_only']

/**
 * One run of a bay: `[first, count, status]` or `[first, count, status, ref]` — `count` slots from
 * slot index `first` (0 = `first_slot`) share one cell. `status` indexes `statuses`; `ref` is the
 * cell's `session_id` for taken statuses (held, reserved, active, maintenance) and the index of
 * its reason in `reasons` for unavailable, closed and walk_in_only.
 */
const SlotIndex = Type.Integer({ minimum: 0, maximum: 4096 })
export const ScheduleRun = Type.Union([
  Type.Tuple([SlotIndex, Type.Integer({ minimum: 1, maximum: 4096 }), Type.Integer({ minimum: 0, maximum: 255 })]),
  Type.Tuple([SlotIndex, Type.Integer({ minimum: 1, maximum: 4096 }), Type.Integer({ minimum: 0, maximum: 255 }), Type.Integer({ minimum: 0, maximum: MAX_SESSION_ID })]),
])
export type ScheduleRun = Static<typeof ScheduleRun>

/**
 * Schedule reply, compact (issue 17): the same cells as Schedule, as runs per bay. `runs[i]` are
 * the runs of `machines[i]`, in slot order, never overlapping; a slot no run covers is
 * `available`. Slot k starts at `first_slot + k * slot_minutes * 60`; its wall-clock label is
 * that instant in `timezone` (23 or 25 hours on daylight-saving days). Reason strings are sent
 * once, in `reasons`.
 */
export const ScheduleRuns = Type.Object({
  format: Type.Literal('runs'),
  date: IsoDate,
  slot_minutes: Type.Integer(),
  /** epoch s of slot 0 (absent when the date has no slots) */
  first_slot: Type.Optional(EpochSeconds),
  /** how many slots the date has */
  slots: Type.Integer({ minimum: 0 }),
  /** HUB_TIMEZONE: the zone of the slot labels */
  timezone: Type.String(),
  machines: Type.Array(MachineId),
  statuses: Type.Array(SlotStatus),
  reasons: Type.Array(Type.String()),
  runs: Type.Array(Type.Array(ScheduleRun)),
  request_id: Type.Optional(ExchangeId),
  ...Envelope,
})
export type ScheduleRuns = Static<typeof ScheduleRuns>

/**
 * Availability query (GET /api/availability and scheduling.availability): one schema for the
 * route's query string and the module's own check, so the limits cannot drift apart.
 */
export const AvailabilityQuery = Type.Object({
  bays: Type.Integer({ minimum: 1, maximum: 64, description: 'adjacent bays wanted (at most the widest row)' }),
  minutes: Type.Integer({ minimum: 1, maximum: 24 * 60, description: 'session length' }),
  near: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_EPOCH_S, description: 'preferred start, epoch seconds (default now; at most 400 days ahead)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: 'how many options (default 5)' })),
})
export type AvailabilityQuery = Static<typeof AvailabilityQuery>

// ---------------------------------------------------------------- machines

/** Admin (or node) command on internal/handler: put a machine in a state, optionally until a time. */
export const MachineOverride = Type.Object({
  machine_id: MachineId,
  status: CommandStatus,
  scheduled_until: Type.Optional(Type.Union([EpochSeconds, Type.Null()])),
  session_id: Type.Optional(Type.Union([SessionId, Type.Null()])),
  /** admin only: drop the override and return the machine to the schedule */
  release: Type.Optional(Type.Boolean()),
  /** stop / maintenance on a bay with a running or upcoming session needs this and a reason (issue 11) */
  confirm: Type.Optional(Type.Boolean()),
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  ...Envelope,
})
export type MachineOverride = Static<typeof MachineOverride>

/** Hub -> machine on external/machine/{id}. */
export const MachineControl = Type.Object({
  machine_id: MachineId,
  session_id: Type.Union([SessionId, Type.Null()]),
  status: CommandStatus,
  scheduled_until: Type.Union([EpochSeconds, Type.Null()]),
  timestamp: EpochSeconds,
  exchange_id: ExchangeId,
  origin_node: NodeName,
  destination_node: NodeName,
})
export type MachineControl = Static<typeof MachineControl>

/** Hub -> machine: "report now" (Request machine). */
export const MachineReportRequest = Type.Object({
  request_type: Type.Literal('machine'),
  request_id: Type.Optional(ExchangeId),
  machine_id: MachineId,
  ...Envelope,
})
export type MachineReportRequest = Static<typeof MachineReportRequest>

/** Machine -> hub on external/handler: on connect, on change, every 30 s. */
export const MachineReport = Type.Object({
  machine_id: MachineId,
  status: Type.Enum(['idle', 'active', 'maintenance', 'error']),
  ball_level: BallLevel,
  scheduled_until: Type.Optional(Type.Union([EpochSeconds, Type.Null()])),
  session_id: Type.Optional(Type.Union([SessionId, Type.Null()])),
  firmware: Type.Optional(Type.String({ maxLength: 64 })),
  ip_address: Type.Optional(Type.String({ maxLength: 64 })),
  rssi: Type.Optional(Type.Number({ minimum: -200, maximum: 50 })),
  uptime_s: Type.Optional(Type.Number({ minimum: 0 })),
  ...Envelope,
})
export type MachineReport = Static<typeof MachineReport>

/** Machine -> hub Confirmation of a control (a Confirmation with the machine's fields). */
export const MachineConfirmation = Type.Object({
  success: Type.Boolean(),
  exchange_id: ExchangeId,
  session_id: Type.Optional(Type.Union([SessionId, Type.Null()])),
  status: Type.Optional(CommandStatus),
  message: Type.Optional(Type.String({ maxLength: 500 })),
  machine_id: Type.Optional(MachineId),
  timestamp: Type.Optional(EpochSeconds),
  origin_node: Type.Optional(NodeName),
  destination_node: Type.Optional(NodeName),
})
export type MachineConfirmation = Static<typeof MachineConfirmation>

export const DesiredSource = Type.Enum(['admin', 'schedule', 'kiosk', 'reservation', 'default'])
export type DesiredSource = Static<typeof DesiredSource>

/** What a machine should be doing now and who decided it. */
export const DesiredState = Type.Object({
  status: CommandStatus,
  session_id: Type.Union([SessionId, Type.Null()]),
  scheduled_until: Type.Union([EpochSeconds, Type.Null()]),
  source: DesiredSource,
  /** the holder, for refusal messages: e.g. "session 812" or "admin override" */
  holder: Type.Optional(Type.String()),
})
export type DesiredState = Static<typeof DesiredState>

/**
 * Why a bay cannot dispense, so it must not be sold (issue 11): the machines module reports it,
 * scheduling refuses kiosk/reservation bookings and availability on it (wired in src/hub.ts).
 */
export const BayProblem = Type.Object({
  reason: Type.Enum(['maintenance', 'held', 'error', 'offline']),
  /** when it ends by itself (epoch s); null = until someone acts */
  until: Type.Union([EpochSeconds, Type.Null()]),
  /** since when (epoch s), e.g. offline since */
  since: Type.Optional(EpochSeconds),
  /** what holds the bay, e.g. "an admin override" */
  holder: Type.Optional(Type.String()),
  /** e.g. the error text or offline reason */
  detail: Type.Optional(Type.String()),
})
export type BayProblem = Static<typeof BayProblem>

/** Hub -> nodes (internal/admin, REST, WS): a machine as the hub knows it. */
export const MachineState = Type.Object({
  machine_id: MachineId,
  /** effective status: `offline` when not connected, else the reported status */
  status: MachineStatus,
  online: Type.Boolean(),
  reported_status: Type.Union([MachineStatus, Type.Null()]),
  ball_level: Type.Union([BallLevel, Type.Null()]),
  session_id: Type.Union([SessionId, Type.Null()]),
  scheduled_until: Type.Union([EpochSeconds, Type.Null()]),
  desired: Type.Union([DesiredState, Type.Null()]),
  last_seen: Type.Union([EpochSeconds, Type.Null()]),
  offline_reason: Type.Union([Type.String(), Type.Null()]),
  firmware: Type.Union([Type.String(), Type.Null()]),
  ip_address: Type.Union([Type.String(), Type.Null()]),
  rssi: Type.Union([Type.Number(), Type.Null()]),
  uptime_s: Type.Union([Type.Number(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  ...Envelope,
})
export type MachineState = Static<typeof MachineState>

export const AlertKind = Type.Enum(['offline', 'error', 'command_failed', 'ball_low', 'ball_urgent', 'ball_empty', 'session_affected'])
export type AlertKind = Static<typeof AlertKind>

export const Alert = Type.Object({
  alert_id: Type.String(),
  kind: AlertKind,
  machine_id: MachineId,
  message: Type.String(),
  raised_at: EpochSeconds,
  acknowledged: Type.Boolean(),
  cleared_at: Type.Union([EpochSeconds, Type.Null()]),
  /** times the condition came back within a few minutes of clearing and reopened this alert (one alert per episode) */
  reopened: Type.Optional(Type.Integer({ minimum: 1 })),
})
export type Alert = Static<typeof Alert>

/** GET /api/alerts filters: the list is bounded (newest first). */
export const AlertQuery = Type.Object(
  {
    state: Type.Optional(Type.Enum(['open', 'cleared', 'all'], { description: 'default all' })),
    kind: Type.Optional(AlertKind),
    machine_id: Type.Optional(MachineId),
    acknowledged: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'default 100' })),
  },
  { additionalProperties: false },
)
export type AlertQuery = Static<typeof AlertQuery>
