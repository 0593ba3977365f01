/**
 * Turns one submitted Session (create / update / cancel, DESIGN §4) into a plan against the
 * current sessions. PURE: the service runs it inside its single writer, so what it checked is
 * still true when the plan is written.
 */
import { err, ok, type Result } from '../lib/result.js'
import type { Session, SessionRecord } from '../protocol/messages.js'
import { normalizeDetails } from '../protocol/details.js'
import { describeMoney, planClaim, type PricingFn } from './holds.js'
import { checkBays, describeConflict, findConflict, normalizeStart, phaseAt } from './rules.js'
import { unsellable, type BayHealthFn } from './sellable.js'
import type { CompiledCalendar } from './calendar.js'
import type { BookingChannel } from '../protocol/calendar.js'
import type { SchedulingErrorCode } from './types.js'

export interface PlanContext {
  nowS: number
  slotS: number
  bufferS: number
  timeZone: string
  known: ReadonlySet<number>
  rows: readonly (readonly number[])[]
  origin: string
  isAdmin: boolean
  externalId?: string | undefined
  /** the venue calendar in force (issue 14): bookings stay inside its hours and windows */
  calendar: CompiledCalendar
  /** who books (walk-in windows admit kiosk and staff; issue 12: a kiosk booking with a price waits `held`, a reservation expects a check-in) */
  channel: BookingChannel
  /** the machines module's view of each bay (src/hub.ts); kiosk/reservation bookings need a healthy bay */
  health: BayHealthFn
  /** the price table's quote (null: no table, nothing is charged) */
  pricing?: PricingFn | undefined
  /** HUB_HOLD_MINUTES in seconds */
  holdS?: number
  /** HUB_NO_SHOW_MINUTES in seconds, null when the policy keeps no-shows */
  noShowS?: number | null
  /** actor label of who submits (payment records name it) */
  by?: string
  /** HUB_CURRENCY (payments recorded without a price table) */
  currency?: string
}

export interface Existing {
  record: SessionRecord
  /** fingerprint of the submission that last changed it (for idempotent repeats) */
  submitted: string | null
}

export interface PlanInput {
  session: Session
  /** the stored session with the submitted (or external) id, if any */
  existing: Existing | undefined
  /** the id a new session gets (the hub's allocator; undefined when every id is used) */
  newId: number | undefined
  /** sessions holding any of these bays (may include the session itself) */
  sessionsOn: (bays: readonly number[]) => Iterable<SessionRecord>
  /** the session a payment id is recorded on, if any (a claim is recorded once) */
  paymentOwner?: (paymentId: string) => number | undefined
}

export type Plan =
  | { kind: 'replay'; record: SessionRecord; created?: undefined }
  | { kind: 'created' | 'updated' | 'cancelled'; record: SessionRecord; previous?: SessionRecord; submitted: string }

type PlanResult = Result<Plan, SchedulingErrorCode>

/** Same session_id + same content = the same submission (DESIGN §4). Order of bays does not matter. */
export function fingerprint(s: Session, externalId?: string): string {
  const bays = (Array.isArray(s.machine_id) ? [...s.machine_id] : [s.machine_id]).sort((a, b) => a - b)
  const base = [bays, s.status, s.start_time ?? null, s.duration ?? null, externalId ?? null]
  // Details only when sent, so fingerprints of submissions without them stay as they were.
  return JSON.stringify(s.details === undefined ? base : [...base, normalizeDetails(s.details) ?? {}])
}

export function planSubmission(input: PlanInput, ctx: PlanContext): PlanResult {
  const { session, existing } = input
  const submitted = fingerprint(session, ctx.externalId)
  if (existing) {
    const owner = existing.record.origin_node
    if (!ctx.isAdmin && owner !== ctx.origin) {
      return err('SESSION_FORBIDDEN', `session_id: session ${existing.record.session_id} belongs to ${owner}`, 'session_id')
    }
    if (existing.submitted === submitted) return ok({ kind: 'replay', record: existing.record })
  }
  if (!existing && session.session_id !== undefined && session.status !== 'cancelled') {
    // Session ids are the hub's (issue 10): naming an unknown id never creates (nor moves the allocator).
    const id = session.session_id
    return err('SESSION_NOT_FOUND', `session_id: session ${id} does not exist; omit session_id to create one`, 'session_id')
  }
  if (session.status === 'cancelled') return planCancel(session, existing, submitted, ctx)
  if (session.status === 'maintenance' && !ctx.isAdmin) {
    return err('SESSION_FORBIDDEN', 'status: only an admin may block bays for maintenance', 'status')
  }
  if (session.force === true && !ctx.isAdmin) {
    return err('SESSION_FORBIDDEN', 'force: only an admin may book a bay that is not sellable', 'force')
  }
  if (existing && isEnded(existing.record, ctx.nowS)) return ended(existing.record, ctx.nowS)
  return planBooking(input, submitted, ctx)
}

function isEnded(record: SessionRecord, nowS: number): boolean {
  const phase = phaseAt(record, nowS)
  return phase === 'completed' || phase === 'cancelled'
}

function ended(record: SessionRecord, nowS: number): PlanResult {
  return err('SESSION_ENDED', `session_id: session ${record.session_id} is ${phaseAt(record, nowS)} and cannot change`, 'session_id')
}

function planCancel(session: Session, existing: Existing | undefined, submitted: string, ctx: PlanContext): PlanResult {
  if (session.session_id === undefined && !existing) {
    return err('SESSION_INVALID', 'session_id: is required to cancel a session', 'session_id')
  }
  if (!existing) return err('SESSION_NOT_FOUND', `session_id: no session ${session.session_id}`, 'session_id')
  if (existing.record.status === 'cancelled') return ok({ kind: 'replay', record: existing.record })
  if (isEnded(existing.record, ctx.nowS)) return ended(existing.record, ctx.nowS)
  const record: SessionRecord = { ...existing.record, status: 'cancelled', updated_at: ctx.nowS }
  return ok({ kind: 'cancelled', record, previous: existing.record, submitted })
}

function planBooking(input: PlanInput, submitted: string, ctx: PlanContext): PlanResult {
  const { session, existing } = input
  const prev = existing?.record
  const bays = checkBays(Array.isArray(session.machine_id) ? session.machine_id : [session.machine_id], ctx.known, ctx.rows)
  if (!bays.ok) return bays
  const duration = session.duration ?? prev?.duration
  if (duration === undefined) return err('SESSION_INVALID', 'duration: is required for a new session', 'duration')
  const start = startOf(session, prev, ctx)
  if (!start.ok) return start
  const end = start.value + duration
  if (end <= ctx.nowS) return err('SESSION_INVALID', 'duration: the session would end in the past; cancel it instead', 'duration')

  const status = session.status === 'maintenance' ? 'maintenance' : prev?.status === 'active' ? 'active' : prev?.status === 'held' ? 'held' : 'reserved'
  const id = prev?.session_id ?? input.newId
  if (id === undefined) return err('SESSION_INVALID', 'session_id: the hub has no free session id left', 'session_id')
  const record: SessionRecord = {
    session_id: id,
    machine_id: bays.value,
    status,
    start_time: start.value,
    end_time: end,
    duration,
    origin_node: prev?.origin_node ?? ctx.origin,
    created_at: prev?.created_at ?? ctx.nowS,
    updated_at: ctx.nowS,
  }
  const externalId = ctx.externalId ?? prev?.external_id
  if (externalId !== undefined) record.external_id = externalId
  if (prev?.booked_by !== undefined) record.booked_by = prev.booked_by
  // Absent on a change keeps the details; {} clears them.
  const details = session.details !== undefined ? normalizeDetails(session.details) : prev?.details
  if (details !== undefined) record.details = details
  carryMoney(prev, record)
  if (prev && sameBooking(prev, record)) return ok({ kind: 'replay', record: prev })
  // Only the customer details changed: no bay, time or health check to make.
  if (prev && sameBooking(prev, record, false)) return ok({ kind: 'updated', record, previous: prev, submitted })
  const money = priceBooking(session, prev, record, ctx, input)
  if (money) return money
  // Sell only what can dispense (issue 11); an admin sees why and may force. Blocks are never refused here.
  if (record.status !== 'maintenance' && session.force !== true) {
    const refused = unsellable(record, prev, { nowS: ctx.nowS, timeZone: ctx.timeZone, calendar: ctx.calendar, channel: ctx.channel, health: ctx.health })
    if (refused) return refused
  }

  // A running session moved to other bays needs them only from now: what ran there earlier does not block it.
  const needed = prev && phaseAt(prev, ctx.nowS) === 'active' ? { ...record, start_time: Math.max(record.start_time, ctx.nowS) } : record
  const conflict = findConflict(input.sessionsOn(record.machine_id), needed, ctx.bufferS)
  if (conflict) return err('SESSION_CONFLICT', describeConflict(conflict, ctx.timeZone), 'machine_id')
  return ok(prev ? { kind: 'updated', record, previous: prev, submitted } : { kind: 'created', record, submitted })
}

/**
 * New sessions start at start_time (required); an update keeps its start unless it names a
 * new one. A running session cannot move its start (it has begun; extend or shorten instead).
 */
function startOf(session: Session, prev: SessionRecord | undefined, ctx: PlanContext): Result<number, SchedulingErrorCode> {
  const asked = session.start_time
  // DESIGN §4: a missing field is bad input; a walk-up sends its "now" explicitly.
  if (asked === undefined) return prev ? ok(prev.start_time) : err('SESSION_INVALID', 'start_time: is required for a new session', 'start_time')
  if (prev && asked === prev.start_time) return ok(prev.start_time)
  if (prev && phaseAt(prev, ctx.nowS) === 'active') {
    // A kiosk that resends its walk-up booking (start "now" within a slot) to extend it keeps the start.
    if (Math.abs(asked - prev.start_time) < ctx.slotS) return ok(prev.start_time)
    return err('SESSION_INVALID', `start_time: session ${prev.session_id} has started; its start cannot move`, 'start_time')
  }
  return normalizeStart(asked, ctx.nowS, ctx.slotS)
}

function sameBooking(a: SessionRecord, b: SessionRecord, withDetails = true): boolean {
  return (
    (!withDetails || JSON.stringify(a.details ?? null) === JSON.stringify(b.details ?? null)) &&
    a.start_time === b.start_time &&
    a.end_time === b.end_time &&
    a.status === b.status &&
    a.external_id === b.external_id &&
    a.machine_id.length === b.machine_id.length &&
    a.machine_id.every((id, i) => id === b.machine_id[i])
  )
}

/** What a change keeps of the money side: payments, the pending request, check-in, the link to a parent. */
function carryMoney(prev: SessionRecord | undefined, record: SessionRecord): void {
  if (!prev) return
  for (const key of ['price', 'hold_until', 'payments', 'payment_request', 'no_show_at', 'checked_in_at', 'extends'] as const) {
    if (prev[key] !== undefined) (record as Record<string, unknown>)[key] = prev[key]
  }
  // A moved reservation expects its check-in relative to its new start.
  if (prev.no_show_at !== undefined) record.no_show_at = record.start_time + (prev.no_show_at - prev.start_time)
}

/**
 * issue 12: the price it is sold at, and what that means for a new booking: a kiosk booking with
 * something to pay waits `held` (unless the kiosk app took the money itself: `payment`), a
 * reservation expects its check-in. Returns a refusal, or undefined with `record` completed.
 */
function priceBooking(session: Session, prev: SessionRecord | undefined, record: SessionRecord, ctx: PlanContext, input: PlanInput): PlanResult | undefined {
  if (record.status === 'maintenance') return undefined
  const quote = ctx.pricing?.({ machine_id: record.machine_id, start_time: record.start_time, end_time: record.end_time }) ?? null
  if (!prev) {
    if (quote) record.price = quote
    if (ctx.channel === 'reservation' && ctx.noShowS != null) record.no_show_at = record.start_time + ctx.noShowS
    if (session.payment) {
      const claimed = planClaim(record, session.payment, ctx, input.paymentOwner)
      if (!claimed.ok) return claimed
      record.payments = [claimed.value]
    } else if (ctx.channel === 'kiosk' && quote && quote.amount > 0) {
      record.status = 'held'
      record.hold_until = ctx.nowS + (ctx.holdS ?? 600)
    }
    return undefined
  }
  if (session.payment) return err('SESSION_INVALID', 'payment: a payment is sent with a new booking; pay an existing one with POST /api/sessions/{id}/payment', 'payment')
  if (!quote) return undefined
  const longer = record.end_time - record.start_time > prev.end_time - prev.start_time
  const paid = prev.status !== 'held' && (prev.payments ?? []).some((p) => p.kind === 'payment')
  // A kiosk cannot lengthen a paid session for free: the extension is quoted and paid like a booking.
  if (ctx.channel === 'kiosk' && paid && longer) {
    const extra = ctx.pricing?.({ machine_id: record.machine_id, start_time: prev.end_time, end_time: record.end_time })
    if (extra && extra.amount > 0) {
      return err('PAYMENT_REQUIRED', `duration: the extension costs ${describeMoney(extra)}; extend with POST /api/sessions/${prev.session_id}/extend and pay for it`, 'duration')
    }
  }
  // A change re-prices the session; what was paid stays recorded (the difference is due, or owed back).
  record.price = quote
  return undefined
}
