/**
 * Prices and payments over HTTP (issue 12): the price table (manager/admin), the counter and
 * terminal providers, kiosk extensions and check-in, the day's takings, and the gateway's
 * signed callback. Every change goes through src/payments and scheduling, audited there.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { sessionReadRefusal } from '../../../protocol/access.js'
import { SessionRecord } from '../../../protocol/messages.js'
import { CounterPayment, Money, PaymentRecord, PriceTable, StoredPriceTable } from '../../../protocol/payments.js'
import { MAX_PAYLOAD_BYTES } from '../../../protocol/codec.js'
import { CALLBACK_PATH, signatureProblem, type Payments } from '../../../payments/index.js'
import { actorOf, principalOf } from '../auth.js'
import { can } from '../../../protocol/permissions.js'
import type { Principal, RouteContext } from '../deps.js'
import { HttpError, unwrap } from '../errors.js'
import { DateQuery, ErrorBody, SessionParams, authErrors } from '../schemas.js'
import { bookingChannelOf } from '../../../protocol/calendar.js'
import type { Clock } from '../../../lib/clock.js'
import { ReportRange } from '../../../protocol/reports.js'
import { parseDateRange } from '../../../reports/range.js'
import { MAX_AHEAD_S } from '../../../scheduling/rules.js'
import { csvDocument, type CsvColumn } from '../../../reports/csv.js'
import { CsvBody, csvFilename, sendCsv } from '../csv-reply.js'
import type { PaymentLine } from '../../../payments/index.js'
import type { Logger } from 'pino'

const security = [{ bearer: [] }]
const tags = ['payments']

const ExtendBody = Type.Object({ minutes: Type.Integer({ minimum: 5, maximum: 240, description: 'minutes to add after the current end' }) }, { additionalProperties: false })
const PaymentAnswer = Type.Object({ session: SessionRecord, replay: Type.Boolean() })
const Takings = Type.Object({
  date: Type.String(),
  currency: Type.String(),
  total: Type.Integer({ description: 'payments minus refund requests, minor units' }),
  count: Type.Integer(),
  by_provider: Type.Record(Type.String(), Type.Integer()),
  records: Type.Array(Type.Intersect([PaymentRecord, Type.Object({ session_id: Type.Integer(), machine_id: Type.Array(Type.Integer()) })])),
})

function optionsFor(principal: Principal) {
  return { origin: principal.name, isAdmin: can(principal.role, 'sessions.any'), actor: actorOf(principal), channel: bookingChannelOf(principal.role) }
}

export const paymentRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const payments = (): Payments => {
    if (!ctx.payments) throw new HttpError(404, 'NOT_FOUND', 'payments are not set up on this hub')
    return ctx.payments
  }
  const mustSee = (request: FastifyRequest, id: number) => {
    const session = ctx.scheduling.get(id)
    if (!session) throw new HttpError(404, 'SESSION_NOT_FOUND', `session ${id} does not exist`)
    const refused = sessionReadRefusal(principalOf(request), session)
    if (refused) throw new HttpError(403, 'SESSION_FORBIDDEN', refused)
    return session
  }

  app.get(
    '/api/prices',
    { onRequest: ctx.guard('prices.manage'), schema: { tags, security, summary: 'The price table (minor units per bay and hour)', response: { 200: StoredPriceTable, ...authErrors } } },
    () => payments().prices.get(),
  )

  app.put(
    '/api/prices',
    {
      onRequest: ctx.guard('prices.manage'),
      schema: {
        tags,
        security,
        summary: 'Replace the price table',
        description:
          'Rates per bay and hour in integer minor units, by weekday and time band (HUB_TIMEZONE), optionally per bay class. ' +
          'Every bookable slot (opening hours) of every bay class in use must have exactly one rate. Audited.',
        body: PriceTable,
        response: { 200: StoredPriceTable, 400: ErrorBody, ...authErrors },
      },
    },
    async (request) => unwrap(await payments().prices.put(request.body, actorOf(principalOf(request)))),
  )

  app.post(
    '/api/sessions/:id/payment',
    {
      onRequest: ctx.guard('payments.take'),
      schema: {
        tags,
        security,
        summary: 'Counter: mark a session paid (method, reference); a held booking becomes reserved, or active if its start has come',
        description: 'Idempotent: the same method and reference again (or, without a reference, a repeat before another payment) records nothing new.',
        params: SessionParams,
        body: CounterPayment,
        response: { 200: PaymentAnswer, 400: ErrorBody, 402: ErrorBody, 404: ErrorBody, 409: ErrorBody, ...authErrors },
      },
    },
    async (request) => unwrap(await payments().counter(request.params.id, request.body, optionsFor(principalOf(request)))),
  )

  app.post(
    '/api/sessions/:id/payment/terminal',
    {
      onRequest: ctx.guard('sessions.book'),
      schema: {
        tags,
        security,
        summary: 'Terminal: ask the card terminal to take the amount due ("tap your card on the terminal")',
        params: SessionParams,
        response: { 200: SessionRecord, 404: ErrorBody, 409: ErrorBody, ...authErrors },
      },
    },
    async (request) => {
      mustSee(request, request.params.id)
      const terminal = payments().terminal
      if (!terminal) throw new HttpError(409, 'PAYMENT_UNAVAILABLE', 'no payment terminal is set up (HUB_PAYMENT_URL); pay at the counter')
      return unwrap(await terminal.request(request.params.id))
    },
  )

  app.post(
    '/api/sessions/:id/extend',
    {
      onRequest: ctx.guard('sessions.book'),
      preHandler: ctx.limits.booking((request) => principalOf(request).user ?? principalOf(request).name),
      schema: {
        tags,
        security,
        summary: 'Extend a running or upcoming session when its bays are free after it',
        description: 'From a kiosk with prices set: answers 201 with a held extension (pay it like a booking; once paid it is merged into the session). Otherwise extended at once (200).',
        params: SessionParams,
        body: ExtendBody,
        response: { 200: SessionRecord, 201: SessionRecord, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, ...authErrors },
      },
    },
    async (request, reply) => {
      mustSee(request, request.params.id)
      const outcome = unwrap(await ctx.scheduling.extend(request.params.id, request.body.minutes * 60, optionsFor(principalOf(request))))
      return reply.status(outcome.created ? 201 : 200).send(outcome.session)
    },
  )

  app.post(
    '/api/sessions/:id/check-in',
    {
      onRequest: ctx.guard('sessions.book'),
      schema: {
        tags,
        security,
        summary: 'Check in a reservation (kiosk by booking code, or staff): the no-show rule no longer releases it',
        params: SessionParams,
        response: { 200: SessionRecord, 404: ErrorBody, 409: ErrorBody, ...authErrors },
      },
    },
    async (request) => unwrap(await ctx.scheduling.checkIn(request.params.id, optionsFor(principalOf(request)))),
  )

  app.get(
    '/api/payments',
    {
      onRequest: ctx.guard('payments.read'),
      schema: { tags, security, summary: "A day's payment records and takings (default today)", querystring: DateQuery, response: { 200: Takings, 400: ErrorBody, ...authErrors } },
    },
    (request) => payments().takings(unwrap(ctx.scheduling.checkDate(request.query.date ?? ctx.today()))),
  )

  app.get(
    '/api/export/payments.csv',
    {
      onRequest: ctx.guard('reports.read'),
      schema: {
        tags: ['reports'],
        security,
        summary: 'Payment records (payments and refund requests) taken in the range, in time order',
        description: 'Local dates in HUB_TIMEZONE, both inclusive; default the last 30 days; at most 366 days. Amounts in minor units. Same CSV rules as the other exports.',
        querystring: ReportRange,
        response: { 200: CsvBody, 400: ErrorBody, 429: ErrorBody, ...authErrors },
      },
    },
    (request, reply) => {
      const range = parseDateRange(request.query, { today: ctx.today(), timeZone: ctx.config.timezone })
      if (!range.ok) throw new HttpError(400, range.code, range.message)
      const { from, to } = range.value
      const scheduling = ctx.scheduling
      // Records live on their sessions (live and archived); a payment counts on the day it was taken:
      // sessions that started up to a week before (paid during or after them) or start up to the
      // booking window after (paid in advance). Sorted by time, so gathered before the first row.
      async function* rows(): AsyncGenerator<PaymentLine> {
        const out: PaymentLine[] = []
        for await (const s of scheduling.history({ from: from - 8 * 86_400, to: to + MAX_AHEAD_S })) {
          for (const p of s.payments ?? []) if (p.at >= from && p.at < to) out.push({ ...p, session_id: s.session_id, machine_id: s.machine_id })
        }
        yield* out.sort((a, b) => a.at - b.at)
      }
      sendCsv(reply as never, csvFilename('payments', range.value.fromDate, range.value.toDate), csvDocument(PAYMENT_COLUMNS, rows()))
    },
  )

  app.get(
    '/api/payment-options',
    {
      onRequest: ctx.guard('schedule.read'),
      schema: {
        tags,
        security,
        summary: 'How this hub takes money: whether prices are set, whether a terminal is set up, the hold time',
        response: { 200: Type.Object({ priced: Type.Boolean(), currency: Type.String(), terminal: Type.Boolean(), hold_minutes: Type.Integer() }), ...authErrors },
      },
    },
    () => ({
      priced: ctx.payments?.prices.active() ?? false,
      currency: ctx.payments?.prices.get().currency ?? ctx.config.currency,
      terminal: ctx.payments?.terminal != null,
      hold_minutes: ctx.config.holdMinutes,
    }),
  )

  app.get(
    '/api/quote',
    {
      onRequest: ctx.guard('schedule.read'),
      schema: {
        tags,
        security,
        summary: 'The price of some bays for an interval',
        querystring: Type.Object({
          machine_id: Type.Array(Type.Integer({ minimum: 1, maximum: 9999 }), { minItems: 1, maxItems: 64 }),
          start_time: Type.Number({ minimum: 0, maximum: 2 ** 32 }),
          minutes: Type.Integer({ minimum: 1, maximum: 24 * 60 }),
        }),
        response: { 200: Type.Object({ quote: Type.Union([Money, Type.Null()]) }), ...authErrors, 400: ErrorBody },
      },
    },
    (request) => {
      const { machine_id, start_time, minutes } = request.query
      return { quote: payments().quote({ machine_id, start_time, end_time: start_time + minutes * 60 }) }
    },
  )
}

/**
 * POST /api/payments/terminal/callback: the gateway's outcome, HMAC-SHA256 over
 * `<X-Hub-Timestamp>.<raw body>` with HUB_PAYMENT_SECRET. No bearer token: the signature is the
 * credential. Unsigned, wrongly signed or stale (> 5 min) is 401 and changes nothing.
 */
export function terminalCallback(payments: Payments | undefined, secret: string | null, clock: Clock, log: Logger) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    // The signature covers the exact bytes sent, so keep the raw body (this plugin's scope only).
    app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: MAX_PAYLOAD_BYTES }, (_req, body, done) => done(null, body))
    app.post(CALLBACK_PATH, { schema: { hide: true } }, async (req, reply) => {
      const terminal = payments?.terminal
      if (!terminal || !secret) return reply.code(404).send({ error: 'NOT_FOUND', message: 'the payment terminal is off (HUB_PAYMENT_URL / HUB_PAYMENT_SECRET unset)' })
      const raw = typeof req.body === 'string' ? req.body : ''
      const problem = signatureProblem(secret, raw, req.headers as Record<string, unknown>, clock.now() / 1000)
      if (problem) return reply.code(401).send({ error: 'UNAUTHORIZED', message: problem })
      let body: unknown
      try {
        body = JSON.parse(raw)
      } catch {
        return reply.code(400).send({ error: 'BAD_REQUEST', message: '(payload): payload is not valid JSON' })
      }
      const outcome = await terminal.outcome(body)
      if (!outcome.ok) {
        const status = outcome.code === 'PAYMENT_UNKNOWN' ? 404 : outcome.code === 'PAYMENT_INVALID' && outcome.field !== 'amount' && outcome.field !== 'session_id' ? 400 : 409
        log.warn({ code: outcome.code, message: outcome.message }, 'terminal callback refused')
        return reply.code(status).send({ error: outcome.code, message: outcome.message })
      }
      const s = outcome.value.session
      return reply.send({ ok: true, duplicate: outcome.value.duplicate, session_id: s.session_id, status: s.status })
    })
  }
}

const PAYMENT_COLUMNS: CsvColumn<PaymentLine>[] = [
  { header: 'time', value: (r) => new Date(r.at * 1000).toISOString() },
  { header: 'session_id', value: (r) => r.session_id },
  { header: 'bays', value: (r) => r.machine_id.join(' ') },
  { header: 'kind', value: (r) => r.kind },
  { header: 'provider', value: (r) => r.provider },
  { header: 'method', value: (r) => r.method },
  { header: 'reference', value: (r) => r.reference },
  // refund requests count against the takings
  { header: 'amount', value: (r) => (r.kind === 'payment' ? r.amount : -r.amount) },
  { header: 'currency', value: (r) => r.currency },
  { header: 'by', value: (r) => r.by },
  { header: 'payment_id', value: (r) => r.payment_id },
]
