/**
 * Money on the wire (issue 12, DESIGN §9 "Payments"): the price table, quotes, a kiosk app's
 * payment claim, the payment records kept on a session, and the terminal gateway's callback.
 * Amounts are integer minor units (cents); the hub never sees card data, only references.
 */
import { Type, type Static } from 'typebox'

/** ISO 4217 code, e.g. EUR. */
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code, e.g. EUR' })

/** Integer minor units (cents), never negative; at most 10 million units of the currency. */
export const MAX_AMOUNT = 1_000_000_000
export const Amount = Type.Integer({ minimum: 0, maximum: MAX_AMOUNT, description: 'integer minor units (e.g. cents)' })

export const Money = Type.Object({ amount: Amount, currency: Currency })
export type Money = Static<typeof Money>

/** A bay class (covered, heated, tracking, ...): a short lower-case name. */
export const BayClass = Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$', description: 'bay class, e.g. covered' })

export const Weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export const Weekday = Type.Enum([...Weekdays])
export type Weekday = Static<typeof Weekday>

/** `HH:MM`, 00:00-24:00 (24:00 = end of the day). */
export const WallTime = Type.String({ pattern: '^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$', description: 'HH:MM in HUB_TIMEZONE' })

/**
 * One rate: on these weekdays, from `from` to `to` (wall clock in HUB_TIMEZONE), for bays of
 * `class` (absent = every class without a rate of its own), `per_hour` minor units per bay.
 * Charged per slot: a 5-minute slot costs per_hour / 12 (rounded half up, per booking).
 */
export const PriceBand = Type.Object(
  {
    days: Type.Array(Weekday, { minItems: 1, maxItems: 7, uniqueItems: true }),
    from: WallTime,
    to: WallTime,
    per_hour: Amount,
    class: Type.Optional(BayClass),
  },
  { additionalProperties: false },
)
export type PriceBand = Static<typeof PriceBand>

/** PUT /api/prices body and GET /api/prices answer. */
export const PriceTable = Type.Object(
  {
    currency: Currency,
    bands: Type.Array(PriceBand, { maxItems: 500 }),
    /** bay id (as a string key) -> class */
    bay_classes: Type.Optional(Type.Record(Type.String({ pattern: '^[1-9]\\d{0,3}$' }), BayClass)),
  },
  { additionalProperties: false },
)
export type PriceTable = Static<typeof PriceTable>

/** The stored table: the table plus who changed it last and when. */
export const StoredPriceTable = Type.Object({
  currency: Currency,
  bands: Type.Array(PriceBand),
  bay_classes: Type.Optional(Type.Record(Type.String(), BayClass)),
  updated_at: Type.Union([Type.Number(), Type.Null()]),
  updated_by: Type.Union([Type.String(), Type.Null()]),
})
export type StoredPriceTable = Static<typeof StoredPriceTable>

/** A quote for one option: what it costs (minor units) for all its bays. */
export const Quote = Money
export type Quote = Money

/** Providers behind the one payment port (src/payments). `credit` is the seam for credit codes (issue 11). */
export const PaymentProviders = ['counter', 'terminal', 'kiosk', 'credit'] as const
export const PaymentProvider = Type.Enum([...PaymentProviders])
export type PaymentProvider = Static<typeof PaymentProvider>

export const PaymentReference = Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$', description: 'the provider\'s reference (receipt, transaction id)' })

/** A kiosk app that took the money itself sends this with its Session (issue 12). */
export const PaymentClaim = Type.Object({
  provider: Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z][a-z0-9_-]*$', description: 'who took the money, e.g. kiosk or a gateway name' }),
  reference: PaymentReference,
  amount: Amount,
})
export type PaymentClaim = Static<typeof PaymentClaim>

/** Counter methods staff choose from. */
export const CounterMethods = ['cash', 'card', 'voucher', 'other'] as const
export const CounterMethod = Type.Enum([...CounterMethods])

/** POST /api/sessions/:id/payment. */
export const CounterPayment = Type.Object(
  {
    method: CounterMethod,
    reference: Type.Optional(PaymentReference),
    /** default: the amount due */
    amount: Type.Optional(Amount),
  },
  { additionalProperties: false },
)
export type CounterPayment = Static<typeof CounterPayment>

/** One durable payment record, kept on its session (same synced write as the status change). */
export const PaymentRecord = Type.Object({
  /** unique per provider: `<provider>:<reference>` */
  payment_id: Type.String(),
  kind: Type.Enum(['payment', 'refund_requested']),
  provider: Type.String(),
  method: Type.Optional(Type.String()),
  reference: Type.String(),
  amount: Amount,
  currency: Currency,
  /** actor label: staff:mia, node:kiosk_interface, system */
  by: Type.String(),
  at: Type.Number(),
  reason: Type.Optional(Type.String()),
})
export type PaymentRecord = Static<typeof PaymentRecord>

/** A terminal payment request the hub created and waits on. */
export const PaymentRequest = Type.Object({
  payment_id: Type.String(),
  provider: Type.Literal('terminal'),
  amount: Amount,
  currency: Currency,
  created_at: Type.Number(),
  status: Type.Enum(['pending', 'approved', 'declined', 'failed']),
  message: Type.Optional(Type.String()),
})
export type PaymentRequest = Static<typeof PaymentRequest>

/** The gateway's callback body (POST /api/payments/terminal/callback), HMAC-signed. */
export const TerminalCallback = Type.Object({
  payment_id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' }),
  status: Type.Enum(['approved', 'declined', 'failed']),
  amount: Amount,
  currency: Currency,
  reference: Type.Optional(PaymentReference),
  message: Type.Optional(Type.String({ maxLength: 200 })),
})
export type TerminalCallback = Static<typeof TerminalCallback>
