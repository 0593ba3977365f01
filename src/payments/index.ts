/**
 * createPayments: prices and the payment providers behind one port (issue 12).
 *
 *   counter   staff mark a session paid (method, reference) on the admin page
 *   terminal  an HTTP payment terminal / gateway (terminal.ts): request, signed callback, status poll
 *   kiosk     a kiosk app that took the money itself sends `payment` with its Session (scheduling)
 *   credit    seam for redeeming a credit code (issue 11) — not offered until credits exist
 *
 * Every provider ends in `scheduling.pay`, which records the payment on the session in the same
 * synced write as the status change it causes (held -> reserved), idempotent by payment id, with
 * its audit entry. The price table is in price-book.ts; quotes come from prices.ts.
 */
import type { Logger } from 'pino'
import type { AuditLog } from '../audit/log.js'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import { err, ok, type Result } from '../lib/result.js'
import type { Actor } from '../protocol/actor.js'
import type { SessionRecord } from '../protocol/messages.js'
import type { CounterPayment, Money, PaymentRecord } from '../protocol/payments.js'
import { dayBounds, type Scheduling, type SubmitOptions } from '../scheduling/index.js'
import { createPriceBook, type PriceBook, type PriceDb } from './price-book.js'
import { createTerminal, type Terminal } from './terminal.js'
import type { PaymentsErrorCode } from './types.js'

export type { PaymentsErrorCode } from './types.js'
export type { PriceBook, PriceDb } from './price-book.js'
export { CALLBACK_PATH, signature, signatureProblem, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './terminal.js'

/** One line of the payment records (GET /api/payments, the CSV export). */
export interface PaymentLine extends PaymentRecord {
  session_id: number
  machine_id: number[]
}

export interface Takings {
  date: string
  currency: string
  /** payments minus refund requests, minor units */
  total: number
  count: number
  by_provider: Record<string, number>
  records: PaymentLine[]
}

export interface Payments {
  prices: PriceBook
  /** the quote for an availability option or a booking; null while no table is saved */
  quote(booking: { machine_id: readonly number[]; start_time: number; end_time: number }): Money | null
  /** counter: staff mark a session paid */
  counter(sessionId: number, payment: CounterPayment, options: SubmitOptions): Promise<Result<{ session: SessionRecord; replay: boolean }, PaymentsErrorCode>>
  /** the terminal adapter, when HUB_PAYMENT_URL is set */
  terminal: Terminal | null
  /** every payment and refund request recorded on a day (HUB_TIMEZONE) */
  takings(date: string): Takings
  start(): Promise<void>
  stop(): Promise<void>
}

export interface PriceDeps {
  config: Config
  clock: Clock
  /** `db.sublevel('prices', { valueEncoding: 'json' })` */
  db: PriceDb
  audit?: AuditLog | undefined
}

/** The price book alone: scheduling needs its quotes before the providers (which need scheduling) exist. */
export function createPrices({ config, clock, db, audit }: PriceDeps): PriceBook {
  return createPriceBook({
    db,
    rules: { timeZone: config.timezone, slotMinutes: config.slotMinutes, openingHours: config.openingHours, machineIds: config.machineIds },
    currency: config.currency,
    audit,
    nowS: () => clock.now() / 1000,
  })
}

export interface PaymentsDeps {
  config: Config
  clock: Clock
  log: Logger
  prices: PriceBook
  scheduling: Scheduling
}

export function createPayments({ config, clock, log, prices, scheduling }: PaymentsDeps): Payments {
  const terminal =
    config.paymentUrl && config.paymentSecret
      ? createTerminal({ url: config.paymentUrl, secret: config.paymentSecret, clock, log, scheduling, siteId: config.siteId, pollSeconds: config.paymentPollSeconds })
      : null
  if (config.paymentUrl && !config.paymentSecret) log.warn('HUB_PAYMENT_URL is set without HUB_PAYMENT_SECRET: the terminal stays off (callbacks could not be checked)')

  return {
    prices,
    quote: (booking) => prices.quote(booking),
    terminal,
    async counter(sessionId, payment, options) {
      const session = scheduling.get(sessionId)
      if (!session) return err('SESSION_NOT_FOUND', `session ${sessionId} does not exist`)
      // Without a reference, the n-th payment of a session has one id: a double click records it once.
      const count = (session.payments ?? []).length
      const reference = payment.reference ?? `S${sessionId}-${count + 1}`
      const paymentId = payment.reference === undefined ? `counter:${sessionId}:${count + 1}` : `counter:${payment.method}:${payment.reference}`
      const paid = await scheduling.pay(sessionId, { payment_id: paymentId, provider: 'counter', method: payment.method, reference, amount: payment.amount, late: 'refuse' }, options)
      if (!paid.ok) return paid as Result<never, PaymentsErrorCode>
      return ok({ session: paid.value.session, replay: paid.value.replay })
    },
    takings(date) {
      const { from, to } = dayBounds(config.timezone, date)
      const records: PaymentLine[] = []
      // Records live on their sessions; a payment is on the day it was taken, whatever the session's day.
      for (const s of scheduling.list({ from: from - 7 * 86_400 })) {
        for (const p of s.payments ?? []) if (p.at >= from && p.at < to) records.push({ ...p, session_id: s.session_id, machine_id: s.machine_id })
      }
      records.sort((a, b) => a.at - b.at)
      const by_provider: Record<string, number> = {}
      let total = 0
      for (const r of records) {
        const signed = r.kind === 'payment' ? r.amount : -r.amount
        total += signed
        by_provider[r.provider] = (by_provider[r.provider] ?? 0) + signed
      }
      return { date, currency: prices.get().currency, total, count: records.filter((r) => r.kind === 'payment').length, by_provider, records }
    },
    async start() {
      terminal?.start()
    },
    async stop() {
      await terminal?.stop()
    },
  }
}

export type { Actor }
