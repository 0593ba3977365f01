/**
 * Sessions on a bay that stopped working, and the credit for minutes lost (issue 11, DESIGN §9
 * "Sellable"): the `session.affected` event (WebSocket feed, the owner's MQTT topic and
 * internal/admin), the alternatives / move shapes and the credit record, defined once.
 */
import { Type, type Static } from 'typebox'
import { EpochSeconds, MachineId, SessionId } from './messages.js'

/** Why a session is affected: a bay problem (machines health) or a reason another module gave (e.g. `calendar`). */
export const AffectedReason = Type.String({ minLength: 1, maxLength: 40, description: 'maintenance | held | error | offline | stopped, or a module reason such as calendar' })

/** One bay of the session that cannot serve it, and why, in words. */
export const AffectedBay = Type.Object({
  machine_id: MachineId,
  reason: AffectedReason,
  /** "bay 4 is offline since 10:41 (keep-alive expired)" */
  message: Type.String(),
})
export type AffectedBay = Static<typeof AffectedBay>

/**
 * The durable affected record of a session and the `session.affected` payload. `affected: false`
 * with `cleared_reason` says the flag was cleared (bay recovered, session moved or ended).
 */
export const AffectedSession = Type.Object({
  session_id: SessionId,
  /** the session's bays when flagged (or when cleared) */
  machine_id: Type.Array(MachineId),
  start_time: EpochSeconds,
  end_time: EpochSeconds,
  /** the node that owns the session (its MQTT topic gets the event); not `origin_node`, which the envelope uses for the sender */
  owner: Type.String(),
  affected: Type.Boolean(),
  bays: Type.Array(AffectedBay),
  /** "session 812 (10:30-11:30, running): bay 4 is offline since 10:41" */
  message: Type.String(),
  /** the session was running when flagged (it loses minutes) rather than upcoming */
  running: Type.Boolean(),
  since: EpochSeconds,
  cleared_at: Type.Union([EpochSeconds, Type.Null()]),
  cleared_reason: Type.Optional(Type.Enum(['recovered', 'moved', 'ended', 'cancelled', 'cleared'])),
  /** seconds the session could not dispense so far (sum of its credits) */
  lost_seconds: Type.Integer({ minimum: 0 }),
})
export type AffectedSession = Static<typeof AffectedSession>

export const AffectedQuery = Type.Object({
  state: Type.Optional(Type.Enum(['affected', 'cleared', 'all'], { description: 'default affected (flagged now)' })),
  machine_id: Type.Optional(MachineId),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'default 100' })),
})
export type AffectedQuery = Static<typeof AffectedQuery>

/** POST /api/sessions/{id}/move: to `machine_id`, or (omitted) to the first alternative. */
export const MoveRequest = Type.Object(
  {
    machine_id: Type.Optional(Type.Union([MachineId, Type.Array(MachineId, { minItems: 1, maxItems: 64 })])),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /** admin only: move onto a bay that is not sellable */
    force: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)
export type MoveRequest = Static<typeof MoveRequest>

/** A place a session could move to: the same times on other bays. */
export const Alternative = Type.Object({
  machine_id: Type.Array(MachineId),
  start_time: EpochSeconds,
  end_time: EpochSeconds,
  /** how many bays away from the session's first bay, in row order */
  distance: Type.Integer({ minimum: 0 }),
})
export type Alternative = Static<typeof Alternative>

export const AlternativesReply = Type.Object({
  session_id: SessionId,
  machine_id: Type.Array(MachineId),
  alternatives: Type.Array(Alternative),
})
export type AlternativesReply = Static<typeof AlternativesReply>

// ---------------------------------------------------------------- credits

/** Credit codes: 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L). */
export const CREDIT_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
export const CreditCode = Type.String({ minLength: 10, maxLength: 10, pattern: `^[${CREDIT_CODE_ALPHABET}]{10}$`, description: 'printed on the receipt / shown to the golfer' })

/**
 * Minutes a running session lost because its bay could not dispense (error, offline past the
 * grace, maintenance, an admin stop). One credit per session, bay and episode; it accrues until
 * the bay recovers, the session is moved off it or ends (`accruing` false, `issued_at` set).
 */
export const Credit = Type.Object({
  credit_id: Type.Integer({ minimum: 1 }),
  code: CreditCode,
  session_id: SessionId,
  machine_id: MachineId,
  reason: AffectedReason,
  /** lost time from .. to (epoch s); `to` null while accruing */
  from: EpochSeconds,
  to: Type.Union([EpochSeconds, Type.Null()]),
  lost_seconds: Type.Integer({ minimum: 0 }),
  /** whole minutes owed: lost seconds rounded up */
  minutes: Type.Integer({ minimum: 0 }),
  accruing: Type.Boolean(),
  issued_at: Type.Union([EpochSeconds, Type.Null()]),
  redeemed: Type.Boolean(),
  redeemed_at: Type.Union([EpochSeconds, Type.Null()]),
  /** actor label of who redeemed it */
  redeemed_by: Type.Union([Type.String(), Type.Null()]),
  /** the later session it paid for, when given */
  redeemed_for: Type.Union([SessionId, Type.Null()]),
})
export type Credit = Static<typeof Credit>

export const CreditQuery = Type.Object({
  session_id: Type.Optional(SessionId),
  machine_id: Type.Optional(MachineId),
  redeemed: Type.Optional(Type.Boolean()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'default 100, newest first' })),
})
export type CreditQuery = Static<typeof CreditQuery>

/** Redeem by code (a kiosk booking presents it) or, for staff, by id. */
export const RedeemRequest = Type.Object(
  {
    code: Type.Optional(CreditCode),
    session_id: Type.Optional(SessionId),
  },
  { additionalProperties: false },
)
export type RedeemRequest = Static<typeof RedeemRequest>
