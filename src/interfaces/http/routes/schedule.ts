/**
 * GET /api/schedule and GET /api/availability: every role may read them (DESIGN §6).
 * The schedule is sent as the cached reply's bytes (issue 17: serialised once per change), with
 * its ETag: a reader sending If-None-Match with it gets 304 and no body.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { Schedule, ScheduleRuns } from '../../../protocol/messages.js'
import { bookingChannelOf } from '../../../protocol/calendar.js'
import { principalOf } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { unwrap } from '../errors.js'
import { AvailabilityQuery, AvailabilityReply, ErrorBody, ScheduleQuery, authErrors } from '../schemas.js'

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
        summary: 'The schedule of a day (default today): runs per bay (default), or one row per slot with format=slots',
        description:
          'format=runs (default): ScheduleRuns, each bay\'s runs of equal cells (slots no run covers are available). ' +
          'format=slots: the Schedule reply of MQTT (DESIGN §4), one row per slot. Sent with an ETag; If-None-Match answers 304.',
        querystring: ScheduleQuery,
        response: { 200: Type.Union([ScheduleRuns, Schedule]), 304: Type.Null({ description: 'not modified (If-None-Match)' }), 400: ErrorBody, ...authErrors },
      },
    },
    (request, reply) => {
      const served = unwrap(ctx.scheduling.scheduleReply(request.query.date ?? ctx.today(), request.query.format ?? 'runs'))
      // The bytes are sent as they are (no serialiser): typed replies expect the schema's object.
      const raw = reply as unknown as FastifyReply
      // A change of the schedule is a new ETag; the reader revalidates every time.
      raw.header('etag', served.etag).header('cache-control', 'no-cache').header('vary', 'authorization, cookie')
      if (matches(request.headers['if-none-match'], served.etag)) void raw.code(304).send()
      else void raw.type('application/json; charset=utf-8').send(served.bytes)
    },
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

/** If-None-Match: `*` or a list of tags, weak ones compared weakly (RFC 9110 §13.1.2). */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)
}

function withQuote<T extends object>(option: T, quote: import('../../../protocol/payments.js').Money | null): T {
  return quote ? { ...option, quote } : option
}
