/**
 * /api/clock (issue 15, time you can trust): the hub's clock, and the staff confirmation of the
 * time from the tablet's own clock while the system clock is not synchronised.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ClockConfirm, ClockStatus } from '../../../protocol/clock.js'
import type { Timekeeping } from '../../../timekeeping/index.js'
import { clockDraft } from '../../../audit/drafts.js'
import { actorOf, principalOf } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { unwrap } from '../errors.js'
import { ErrorBody, authErrors } from '../schemas.js'

const security = [{ bearer: [] }]
const tags = ['clock']

export const clockRoutes: FastifyPluginAsyncTypebox<RouteContext & { timekeeping: Timekeeping }> = async (app, ctx) => {

  app.get(
    '/api/clock',
    { onRequest: ctx.guard('machines.read'), schema: { tags, security, summary: "The hub's clock: synchronised, source, offset in use", response: { 200: ClockStatus, ...authErrors } } },
    () => ctx.timekeeping.status(),
  )

  app.post(
    '/api/clock/confirm',
    {
      onRequest: ctx.guard('clock.set'),
      schema: {
        tags,
        security,
        summary: "Run on the tablet's time until the system clock is synchronised",
        description: 'Refused (409) while the system clock is synchronised. Every confirmation is logged as a clock step.',
        body: ClockConfirm,
        response: { 200: ClockStatus, 400: ErrorBody, 409: ErrorBody, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const before = ctx.timekeeping.status()
      const after = unwrap(ctx.timekeeping.confirm(request.body.epoch_ms, principal.user ?? principal.name))
      // The confirmed time lives in memory (and a same-boot file): no LevelDB batch to share, so
      // its entry is written on its own, durable before the answer.
      await ctx.audit?.record([clockDraft(before, after, actorOf(principal), request.body.reason)])
      return after
    },
  )
}
