/** GET /api/schedule and GET /api/availability: every role may read them (DESIGN §6). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Schedule } from '../../../protocol/messages.js'
import { bookingChannelOf } from '../../../protocol/calendar.js'
import { principalOf } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { unwrap } from '../errors.js'
import { AvailabilityQuery, AvailabilityReply, DateQuery, ErrorBody, authErrors } from '../schemas.js'

const security = [{ bearer: [] }]
const tags = ['schedule']

export const scheduleRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const guard = ctx.guard('schedule.read')

  app.get(
    '/api/schedule',
    {
      onRequest: guard,
      schema: {
        tags,
        security,
        summary: 'The schedule grid of a day (default today): one row per slot, one cell per bay',
        description: 'Same shape as the Schedule reply on MQTT (DESIGN §4).',
        querystring: DateQuery,
        response: { 200: Schedule, 400: ErrorBody, ...authErrors },
      },
    },
    (request) => unwrap(ctx.scheduling.scheduleFor(request.query.date ?? ctx.today())),
  )

  app.get(
    '/api/availability',
    {
      onRequest: guard,
      schema: {
        tags,
        security,
        summary: 'Options to book `bays` adjacent bays for `minutes`, starting at or soon after `near`',
        querystring: AvailabilityQuery,
        response: { 200: AvailabilityReply, 400: ErrorBody, ...authErrors },
      },
    },
    (request) => {
      const { bays, minutes, near, limit } = request.query
      const query = { bays, minutes, near: near ?? ctx.clock.now() / 1000, ...(limit !== undefined && { limit }) }
      // Walk-in-only windows are offered to the kiosk and the desk, not to reservations (issue 14).
      const options = unwrap(ctx.scheduling.availability(query, { channel: bookingChannelOf(principalOf(request).role) }))
      // issue 12: each option carries its price, the same quote the booking will store.
      const quote = ctx.payments?.quote
      return { options: quote ? options.map((o) => withQuote(o, quote(o))) : options }
    },
  )
}

function withQuote<T extends object>(option: T, quote: import('../../../protocol/payments.js').Money | null): T {
  return quote ? { ...option, quote } : option
}
