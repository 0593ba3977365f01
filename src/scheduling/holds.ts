/**
 * Holds, payments on sessions, check-in and kiosk extensions (issue 12). PURE: the service runs
 * these inside its single writer, so a payment and the status it changes are one synced write,
 * and a payment id is recorded at most once across all sessions (idempotent callbacks).
 *
 * held --paid--> reserved (or, its start come, active at once for the remaining time)
 * held --hold_until--> cancelled (released: hold_expired); a payment arriving later is recorded
 *   with a refund request (terminal) or refused (counter)
 * a kiosk extension is a held session right after its parent; paid, it is merged into the parent.
 */
import { err, ok, type Result } from '../lib/result.js'
import type { SessionRecord } from '../protocol/messages.js'
import type { Money, PaymentClaim, PaymentRecord } from '../protocol/payments.js'
import { phaseAt } from './rules.js'
import type { SchedulingErrorCode } from './types.js'
import { clockAt } from './tz.js'

/** The price table's quote for an interval on some bays; null when no table is set (nothing is charged). */
export type PricingFn = (booking: { machine_id: readonly number[]; start_time: number; end_time: number }) => Money | null

/** 1500 EUR minor units -> "15.00 EUR". */
export function describeMoney(m: Money): string {
  return `${(m.amount / 100).toFixed(2)} ${m.currency}`
}

/** What has been paid (refund requests not subtracted: the money came in). */
export function paidSum(record: SessionRecord): number {
  return (record.payments ?? []).filter((p) => p.kind === 'payment').reduce((sum, p) => sum + p.amount, 0)
}

/** What is still due on a session (0 when free or paid). */
export function amountDue(record: SessionRecord): number {
  return Math.max(0, (record.price?.amount ?? 0) - paidSum(record))
}

interface ClaimContext {
  nowS: number
  currency?: string | undefined
  /** actor label of who records it */
  by?: string | undefined
}

/** A kiosk app's own payment with a new booking: it must cover the price and be new. */
export function planClaim(
  record: SessionRecord,
  claim: PaymentClaim,
  ctx: ClaimContext,
  owner: ((paymentId: string) => number | undefined) | undefined,
): Result<PaymentRecord, SchedulingErrorCode> {
  const paymentId = `${claim.provider}:${claim.reference}`
  const holder = owner?.(paymentId)
  if (holder !== undefined) return err('PAYMENT_INVALID', `payment.reference: payment ${paymentId} is already recorded for session ${holder}`, 'payment')
  const price = record.price
  if (price && claim.amount < price.amount) {
    return err('PAYMENT_REQUIRED', `payment.amount: ${claim.amount} is less than the price ${price.amount} (${describeMoney(price)})`, 'payment')
  }
  return ok({
    payment_id: paymentId,
    kind: 'payment',
    provider: claim.provider,
    reference: claim.reference,
    amount: claim.amount,
    // Without a price table there is no currency to check against: the hub's setting is recorded.
    currency: price?.currency ?? ctx.currency ?? 'XXX',
    by: ctx.by ?? 'system',
    at: ctx.nowS,
  })
}

export interface PaymentInput {
  /** unique per provider: `<provider>:<id>`; the same id again changes nothing */
  payment_id: string
  provider: string
  method?: string | undefined
  reference: string
  /** default: the amount due */
  amount?: number | undefined
  currency?: string | undefined
  /** a payment for a hold that expired: refuse it (counter), or record it with a refund request (terminal) */
  late: 'refuse' | 'refund'
}

export interface PaymentContext {
  nowS: number
  timeZone: string
  by: string
}

export type PaymentPlan =
  | { kind: 'replay'; record: SessionRecord }
  | {
      kind: 'paid'
      /** the session the money belongs to, as it is after the payment */
      record: SessionRecord
      previous: SessionRecord
      /** other records this changes (a merged extension hold) */
      also: Array<{ record: SessionRecord; previous: SessionRecord }>
      /** the payment came too late and a refund is requested */
      refund: boolean
    }

export interface PaymentView {
  get(id: number): SessionRecord | undefined
  idOfPayment(paymentId: string): number | undefined
}

/** Records one payment on a session; the status change it causes comes with it. */
export function planPayment(view: PaymentView, sessionId: number, input: PaymentInput, ctx: PaymentContext): Result<PaymentPlan, SchedulingErrorCode> {
  const recordedOn = view.idOfPayment(input.payment_id)
  const recordedHere = recordedOn !== undefined && (view.get(recordedOn)?.payments ?? []).some((p) => p.payment_id === input.payment_id)
  if (recordedHere) {
    // Idempotent by payment id: a repeated callback or a double click changes nothing.
    if (recordedOn !== sessionId && view.get(sessionId)?.extends !== recordedOn) {
      return err('PAYMENT_INVALID', `reference: payment ${input.payment_id} is already recorded for session ${recordedOn}`, 'reference')
    }
    return ok({ kind: 'replay', record: view.get(recordedOn)! })
  }
  const current = view.get(sessionId)
  if (!current) return err('SESSION_NOT_FOUND', `session_id: no session ${sessionId}`, 'session_id')
  const phase = phaseAt(current, ctx.nowS)
  const price = current.price
  const currency = price?.currency ?? input.currency ?? 'XXX'
  if (input.currency !== undefined && price && input.currency !== price.currency) {
    return err('PAYMENT_INVALID', `currency: ${input.currency} is not the session's currency ${price.currency}`, 'currency')
  }
  const due = amountDue(current)
  const amount = input.amount ?? due
  const entry: PaymentRecord = {
    payment_id: input.payment_id,
    kind: 'payment',
    provider: input.provider,
    ...(input.method !== undefined && { method: input.method }),
    reference: input.reference,
    amount,
    currency,
    by: ctx.by,
    at: ctx.nowS,
  }
  const expired = current.released === 'hold_expired' || (current.status === 'held' && phase === 'cancelled')
  if (expired) {
    const until = current.hold_until === undefined ? '' : ` at ${clockAt(ctx.timeZone, current.hold_until)}`
    if (input.late === 'refuse') return err('PAYMENT_INVALID', `session_id: the hold of session ${sessionId} expired${until}; nothing was charged, book again`, 'session_id')
    // The money came in after the bays were released: keep it on record and ask for it back.
    const refund: PaymentRecord = { ...entry, payment_id: `${input.payment_id}:refund`, kind: 'refund_requested', reason: `hold expired${until}` }
    const record: SessionRecord = {
      ...current,
      status: 'cancelled',
      released: 'hold_expired',
      payments: [...(current.payments ?? []), entry, refund],
      updated_at: ctx.nowS,
    }
    settleRequest(record, 'approved')
    return ok({ kind: 'paid', record, previous: current, also: [], refund: true })
  }
  if (phase === 'completed' || phase === 'cancelled') return err('SESSION_ENDED', `session_id: session ${sessionId} is ${phase}; nothing was charged`, 'session_id')
  if (due === 0) return err('PAYMENT_INVALID', `session_id: session ${sessionId} has nothing to pay`, 'session_id')
  if (amount <= 0) return err('PAYMENT_INVALID', 'amount: must be more than 0', 'amount')
  if (amount > due) return err('PAYMENT_INVALID', `amount: ${amount} is more than the ${due} due`, 'amount')
  if (current.status === 'held' && amount < due) {
    return err('PAYMENT_REQUIRED', `amount: ${amount} does not cover the ${due} due; a hold is paid in full`, 'amount')
  }
  const paid: SessionRecord = { ...current, payments: [...(current.payments ?? []), entry], updated_at: ctx.nowS }
  settleRequest(paid, 'approved')
  if (current.status !== 'held') return ok({ kind: 'paid', record: paid, previous: current, also: [], refund: false })
  delete paid.hold_until
  // Paid after its start: it runs at once, to its booked end (the golfer pays for what they get).
  paid.status = 'reserved'
  const parent = current.extends === undefined ? undefined : view.get(current.extends)
  if (parent && parent.end_time === current.start_time && (phaseAt(parent, ctx.nowS) === 'active' || phaseAt(parent, ctx.nowS) === 'reserved')) {
    // A paid extension becomes part of its session: one countdown, one end, the money on it.
    const merged: SessionRecord = {
      ...parent,
      end_time: current.end_time,
      duration: parent.duration + (current.end_time - current.start_time),
      price: { amount: (parent.price?.amount ?? 0) + (current.price?.amount ?? 0), currency },
      payments: [...(parent.payments ?? []), entry],
      updated_at: ctx.nowS,
    }
    const hold: SessionRecord = { ...current, status: 'cancelled', released: 'merged', updated_at: ctx.nowS }
    delete hold.hold_until
    settleRequest(hold, 'approved')
    return ok({ kind: 'paid', record: merged, previous: parent, also: [{ record: hold, previous: current }], refund: false })
  }
  return ok({ kind: 'paid', record: paid, previous: current, also: [], refund: false })
}

function settleRequest(record: SessionRecord, status: 'approved'): void {
  if (record.payment_request && record.payment_request.status === 'pending') record.payment_request = { ...record.payment_request, status }
}

/** A reservation's golfer arrived (kiosk by code, or staff): the no-show rule no longer applies. */
export function planCheckIn(current: SessionRecord | undefined, sessionId: number, nowS: number): Result<SessionRecord | null, SchedulingErrorCode> {
  if (!current) return err('SESSION_NOT_FOUND', `session_id: no session ${sessionId}`, 'session_id')
  if (current.checked_in_at !== undefined) return ok(null)
  const phase = phaseAt(current, nowS)
  if (phase === 'completed' || phase === 'cancelled') return err('SESSION_ENDED', `session_id: session ${sessionId} is ${phase} and cannot be checked in`, 'session_id')
  if (current.status === 'maintenance') return err('SESSION_INVALID', `session_id: session ${sessionId} is a maintenance block`, 'session_id')
  return ok({ ...current, checked_in_at: nowS, updated_at: nowS })
}
