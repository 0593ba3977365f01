/**
 * GET/PUT /api/calendar (issue 14): the venue calendar, managers and admins only. PUT replaces
 * it whole through scheduling.setCalendar (the one writer: durable with its audit entry). A
 * change that puts booked sessions outside it is 409 CALENDAR_AFFECTS_SESSIONS listing them,
 * unless the body says `confirm: true`; then 200 lists them in `affected`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { CalendarAffected, CalendarReply, CalendarUpdate } from '../../../protocol/calendar.js'
import { actorOf, principalOf } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { statusForCode } from '../errors.js'
import { ErrorBody, authErrors } from '../schemas.js'

const security = [{ bearer: [] }]
const tags = ['calendar']
const CalendarRefusal = Type.Object({ error: Type.String(), message: Type.String(), affected: Type.Optional(Type.Array(CalendarAffected)) })

export const calendarRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const guard = ctx.guard('calendar.manage')

  app.get(
    '/api/calendar',
    {
      onRequest: guard,
      schema: {
        tags,
        security,
        summary: 'The venue calendar: opening hours per weekday, special days, weekly bay windows (HUB_TIMEZONE wall time)',
        response: { 200: CalendarReply, ...authErrors },
      },
    },
    () => ctx.scheduling.calendar(),
  )

  app.put(
    '/api/calendar',
    {
      onRequest: guard,
      schema: {
        tags,
        security,
        summary: 'Replace the venue calendar',
        description:
          'The whole calendar (hours, special_days, windows). Overlapping windows: the most restrictive wins (closed > walk_in_only > bookable > free). ' +
          'A change that puts booked sessions outside it is refused with 409 CALENDAR_AFFECTS_SESSIONS listing them in `affected`; ' +
          'send `confirm: true` to save it anyway (the reply lists them). Audited with `note` as the reason.',
        body: CalendarUpdate,
        response: { 200: CalendarReply, 400: ErrorBody, 409: CalendarRefusal, ...authErrors },
      },
    },
    async (request, reply) => {
      const { confirm, note, ...calendar } = request.body
      const principal = principalOf(request)
      const outcome = await ctx.scheduling.setCalendar(calendar, {
        actor: actorOf(principal),
        ...(confirm !== undefined && { confirm }),
        ...(note !== undefined && { note }),
      })
      if (!outcome.ok) {
        return reply.status(statusForCode(outcome.code) as 400 | 409).send({ error: outcome.code, message: outcome.message, ...(outcome.affected && { affected: outcome.affected }) })
      }
      return outcome.value
    },
  )
}
