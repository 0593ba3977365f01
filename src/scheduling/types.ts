/**
 * The public surface of the scheduling module: one booking rule behind two doors
 * (MQTT internal/manager and HTTP). main.ts wires it (STYLE §2.3).
 */
import type { Result } from '../lib/result.js'
import type { Actor } from '../protocol/actor.js'
import type { DesiredState, Schedule, ScheduleFormat, ScheduleRuns, Session, SessionRecord } from '../protocol/messages.js'
import type { Alternative } from '../protocol/affected.js'
import type { IdempotencyKey } from './idempotency.js'
import type { CalendarAffected, BookingChannel, Calendar, CalendarReply } from '../protocol/calendar.js'

export type CalendarSetResult =
  | { ok: true; value: CalendarReply & { affected: CalendarAffected[] } }
  | { ok: false; code: SchedulingErrorCode; message: string; field?: string; affected?: CalendarAffected[] }

export type { IdempotencyKey }

/** A schedule reply as served (issue 17): the body, its JSON bytes made once, and their ETag. */
export interface ScheduleReply {
  format: ScheduleFormat
  /** shared with the cache: do not mutate */
  body: Schedule | ScheduleRuns
  /** JSON.stringify(body) as UTF-8 */
  bytes: Buffer
  /** a strong HTTP entity tag of `bytes` (quoted) */
  etag: string
}

export type SchedulingErrorCode =
  | 'SESSION_CONFLICT' // overlaps another session on a bay; message names session and bay
  | 'SESSION_NOT_FOUND'
  | 'SESSION_ENDED' // completed or cancelled: cannot change
  | 'SESSION_INVALID' // bad field content (e.g. missing duration, start far in the past); field named
  | 'BAYS_NOT_ADJACENT' // group booking not on adjacent bays of one row
  | 'MACHINE_UNKNOWN'
  | 'SESSION_FORBIDDEN' // the requester may not change this session
  | 'IDEMPOTENCY_KEY_REUSED' // the idempotency key answered another request in the last 24 h; key named
  | 'BAY_UNAVAILABLE' // the bay cannot dispense (maintenance, error, offline, admin override); message names bay and reason
  | 'SESSION_OUTSIDE_HOURS' // not inside the calendar's opening hours (or a closed day); field named
  | 'BAY_CLOSED' // a closed calendar window covers a bay then; message names bay and window
  | 'WALK_IN_ONLY' // a reservation in a walk-in-only window; message names bay and window
  | 'CALENDAR_INVALID' // a calendar that cannot be (hours, dates, bays); field named
  | 'CALENDAR_AFFECTS_SESSIONS' // the change puts booked sessions outside it; send confirm
  | 'MOVE_NO_ALTERNATIVE' // a move without a target found no free, healthy bays in the row for the session's times
  | 'PAYMENT_REQUIRED' // issue 12: a kiosk change that must be paid first (extend), or a payment that does not cover the price
  | 'PAYMENT_INVALID' // issue 12: a payment that cannot be recorded (hold expired, wrong currency, recorded elsewhere); field named

export interface SubmitOptions {
  /** authenticated node that submits (owner of new sessions) */
  origin: string
  /** admins may change any session; others only their own */
  isAdmin?: boolean
  /** id of the reservation in an upstream system (cloud sync), for idempotent repeats */
  externalId?: string
  /**
   * The client's idempotency key (HTTP `Idempotency-Key`, MQTT `exchange_id`), scoped by `origin`:
   * the same key and request within 24 h get the first answer again (idempotency.ts).
   */
  idempotency?: IdempotencyKey
  /** who asks, for the audit log (default: the node `origin`) */
  actor?: Actor
  /** why, when the asker gave a reason (kept in the audit log) */
  reason?: string
  /**
   * Who books, for the calendar's walk-in windows (issue 14): `kiosk` and `staff` may book them,
   * `reservation` not. Default: `staff` for admins, `kiosk` for origin kiosk_interface, else `reservation`.
   * Issue 12: a `kiosk` booking with a price waits `held` for its payment; a `reservation` expects a check-in.
   */
  channel?: BookingChannel
}

/** A payment to record on a session (src/payments builds it from a provider). */
export type { PaymentInput } from './holds.js'
import type { PaymentInput } from './holds.js'

/** What recording a payment did. */
export interface PaymentOutcome {
  session: SessionRecord
  /** the same payment id was recorded before: nothing changed */
  replay: boolean
  /** it came after its hold expired: recorded with a refund request, the session stays released */
  refund: boolean
}

/** What a submission did: the HTTP door answers 201 for `created` without reading first. */
export type SubmitChange = 'created' | 'updated' | 'cancelled' | 'replay'

export interface SubmitOutcome {
  session: SessionRecord
  /** what this submission changed; `replay` for an idempotent repeat (nothing changed) */
  change: SubmitChange
  /** true when this was an idempotent repeat: nothing changed (change === 'replay') */
  replay: boolean
  /** this submission created the session (for a repeat by idempotency key: the first one did) */
  created: boolean
}

/** The query's limits are one TypeBox schema in protocol, checked by the route and by the module. */
export type { AvailabilityQuery } from '../protocol/messages.js'
import type { AvailabilityQuery } from '../protocol/messages.js'

export interface AvailabilityOption {
  machine_id: number[]
  start_time: number
  end_time: number
}

/** What a move did (issue 11): the session on its new bays and the bays it left. */
export interface MoveOutcome extends SubmitOutcome {
  from: number[]
}

export interface MoveOptions extends SubmitOptions {
  /** admin only: move onto bays that are not sellable */
  force?: boolean
}

export interface SessionFilter {
  from?: number
  to?: number
  machineId?: number
  status?: SessionRecord['status']
}

export interface Scheduling {
  /** Create, update (same session_id, other content) or cancel (status cancelled). Resolves after the durable write. */
  submit(session: Session, options: SubmitOptions): Promise<Result<SubmitOutcome, SchedulingErrorCode>>
  cancel(sessionId: number, options: SubmitOptions): Promise<Result<SubmitOutcome, SchedulingErrorCode>>
  /** A live session (the archive is not read: see `find`). */
  get(sessionId: number): SessionRecord | undefined
  /** A live or archived session (issue 13: archived sessions are still found by id). */
  find(sessionId: number): Promise<SessionRecord | undefined>
  /** Live and archived sessions starting in [from, to) (epoch s), in start order, streamed (reports, exports). */
  history(range: { from: number; to: number }): AsyncIterable<SessionRecord>
  findByExternalId(externalId: string): SessionRecord | undefined
  list(filter?: SessionFilter): SessionRecord[]
  /**
   * Where a session could move (issue 11): nearest windows of as many adjacent bays in its row,
   * free and able to dispense for its times (from now on for a running session), nearest first.
   */
  alternatives(sessionId: number, limit?: number): Result<Alternative[], SchedulingErrorCode>
  /**
   * Moves a session to `target` bays, or (undefined) to its first alternative; keeps its times.
   * The same rules as any change (submit); resolves after the durable write.
   */
  move(sessionId: number, target: readonly number[] | undefined, options: MoveOptions): Promise<Result<MoveOutcome, SchedulingErrorCode>>
  /** The grid of a date (cached until a session on it changes; do not mutate). Refuses dates that do not exist or lie over 400 days away. */
  scheduleFor(date: string): Result<Schedule, SchedulingErrorCode>
  /**
   * The schedule reply of a date in `format` (issue 17), serialised once: served from the date's
   * cache until a session on it, the calendar or a bay's sellability (or the slot it matters
   * from) changes. Same date rule as scheduleFor.
   */
  scheduleReply(date: string, format: ScheduleFormat): Result<ScheduleReply, SchedulingErrorCode>
  /** Writer counters (/metrics): synced batches and the changes (steps) they held; steps / batches = group commit. */
  stats?(): { batches: number; steps: number }
  /** Schedule grid cache counters (/metrics): grids served from the cache, grids built, dates kept; replies served and serialised. */
  gridStats(): { hits: number; builds: number; dates: number; replyHits: number; replyBuilds: number }
  /** The same date rule for other date inputs (e.g. GET /api/sessions?date=): the date, or a refusal naming `date`. */
  checkDate(date: string): Result<string, SchedulingErrorCode>
  /** Options for `channel` (default kiosk): walk-in-only windows are offered to kiosk and staff, never to reservations. */
  availability(query: AvailabilityQuery, options?: { channel?: BookingChannel }): Result<AvailabilityOption[], SchedulingErrorCode>
  /** What the schedule requires of a machine at `nowS` (epoch seconds); undefined = nothing scheduled. */
  desiredStateFor(machineId: number, nowS: number): DesiredState | undefined
  /** Closing time (epoch s) of today's opening hours when `nowS` is before it; null without hours or after close. */
  closingAfter(nowS: number): number | null
  /** The venue calendar in force (issue 14): HUB_OPENING_HOURS alone until one is saved. */
  calendar(): CalendarReply
  /**
   * Replaces the calendar through the one writer, durable with its audit entry. Refused
   * (`CALENDAR_AFFECTS_SESSIONS`, listing `affected`) when booked sessions would fall outside it,
   * unless `confirm`; accepted, the reply lists the sessions it affects.
   */
  setCalendar(next: Calendar, options: { actor: Actor; confirm?: boolean; note?: string }): Promise<CalendarSetResult>
  /**
   * For payments (issue 12): true when every bay lies in a `free` calendar window for all of
   * [startS, endS) and no stricter window overlaps it, so the booking needs no hold or price.
   */
  isFreeAt(bays: readonly number[], startS: number, endS: number): boolean
  /** the hub's clock stepped (issue 15): run the lifecycle step at the new time now, not within a minute */
  recheck(): void
  /** issue 12: records a payment and makes a hold reserved (or active); idempotent by payment id */
  pay(sessionId: number, payment: PaymentInput, options: SubmitOptions): Promise<Result<PaymentOutcome, SchedulingErrorCode>>
  /** issue 12: stores the terminal request a hold waits on (or its decline); `null` clears it */
  setPaymentRequest(sessionId: number, request: SessionRecord['payment_request'] | null): Promise<Result<SessionRecord, SchedulingErrorCode>>
  /** issue 12: the golfer of a reservation arrived (no-show rule no longer applies) */
  checkIn(sessionId: number, options: SubmitOptions): Promise<Result<SessionRecord, SchedulingErrorCode>>
  /**
   * issue 12: lengthen a running or upcoming session by `durationS` when its bays are free after it.
   * Free (no price table, or nothing to pay, or not a kiosk): the session is extended at once;
   * else a `held` extension (`extends`: the session) is created, merged into it once paid.
   */
  extend(sessionId: number, durationS: number, options: SubmitOptions): Promise<Result<SubmitOutcome, SchedulingErrorCode>>
  /** the session a payment id or a terminal request id belongs to */
  findByPayment(paymentId: string): SessionRecord | undefined
  start(): Promise<void>
  stop(): Promise<void>
}
