/**
 * Sessions on bays that stopped working, where they can go, moving them, and the credits for
 * minutes lost (issue 11). Same module calls as everything else: scheduling.alternatives /
 * move (the one booking rule), the affected module's list, the credits ledger.
 *
 * - GET  /api/affected                     flagged sessions (machines.read)
 * - GET  /api/sessions/:id/alternatives    nearest free, healthy bays in the same row, same times
 * - POST /api/sessions/:id/move            staff / admin: to the given bays or the first alternative
 * - GET  /api/credits                      credits: session, bay, minutes, reason, redeemed
 * - POST /api/credits/:id/redeem           staff / admin
 * - POST /api/credits/redeem               a later booking presents the code (kiosk, reservation, staff)
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AffectedQuery, AffectedSession, AlternativesReply, Credit, CreditQuery, MoveRequest, RedeemRequest } from '../../../protocol/affected.js'
import { sessionReadRefusal } from '../../../protocol/access.js'
import { SessionRecord } from '../../../protocol/messages.js'
import { can } from '../../../protocol/permissions.js'
import { actorOf, principalOf } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { HttpError, unwrap } from '../errors.js'
import { ErrorBody, SessionParams, authErrors } from '../schemas.js'

const security = [{ bearer: [] }]
const CreditParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }) })
const AlternativesQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, description: 'default 3' })) })
const MoveReply = Type.Object({ session: SessionRecord, from: Type.Array(Type.Integer()) })

export const affectedRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const booking = ctx.limits.booking((request) => principalOf(request).user ?? principalOf(request).name)
  const credits = () => {
    if (!ctx.credits) throw new HttpError(404, 'NOT_FOUND', 'this hub keeps no credits')
    return ctx.credits
  }

  app.get(
    '/api/affected',
    {
      onRequest: ctx.guard('machines.read'),
      schema: {
        tags: ['sessions'],
        security,
        summary: 'Sessions on a bay that cannot serve them (maintenance, error, offline past the grace, admin stop), newest first',
        querystring: AffectedQuery,
        response: { 200: Type.Array(AffectedSession), 400: ErrorBody, ...authErrors },
      },
    },
    (request) => ctx.affected?.list(request.query) ?? [],
  )

  app.get(
    '/api/sessions/:id/alternatives',
    {
      onRequest: ctx.guard('sessions.read'),
      schema: {
        tags: ['sessions'],
        security,
        summary: 'Nearest free bays in the same row for the same times, on bays that can dispense (for a move)',
        params: SessionParams,
        querystring: AlternativesQuery,
        response: { 200: AlternativesReply, 404: ErrorBody, 409: ErrorBody, ...authErrors, 400: ErrorBody },
      },
    },
    (request) => {
      const session = ctx.scheduling.get(request.params.id)
      if (!session) throw new HttpError(404, 'SESSION_NOT_FOUND', `session ${request.params.id} does not exist`)
      const refused = sessionReadRefusal(principalOf(request), session)
      if (refused) throw new HttpError(403, 'SESSION_FORBIDDEN', refused)
      const alternatives = unwrap(ctx.scheduling.alternatives(session.session_id, request.query.limit ?? 3))
      return { session_id: session.session_id, machine_id: session.machine_id, alternatives }
    },
  )

  app.post(
    '/api/sessions/:id/move',
    {
      onRequest: ctx.guard('sessions.any'),
      preHandler: booking,
      schema: {
        tags: ['sessions'],
        security,
        summary: 'Move a session to other bays for the same times (staff, admin); without machine_id to the first alternative',
        description:
          'A running session moves at once: its new bays are switched on and the old ones off. Refusals: MOVE_NO_ALTERNATIVE (409), ' +
          'BAY_UNAVAILABLE (409, the target cannot dispense; an admin may send force: true), SESSION_CONFLICT (409), SESSION_ENDED (409), ' +
          'BAYS_NOT_ADJACENT / SESSION_INVALID (400, naming machine_id), SESSION_NOT_FOUND (404).',
        params: SessionParams,
        body: Type.Optional(MoveRequest),
        response: { 200: MoveReply, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const body = request.body ?? {}
      const target = body.machine_id === undefined ? undefined : Array.isArray(body.machine_id) ? body.machine_id : [body.machine_id]
      const outcome = unwrap(
        await ctx.scheduling.move(request.params.id, target, {
          origin: principal.name,
          isAdmin: can(principal.role, 'sessions.any'),
          actor: actorOf(principal),
          reason: body.reason ?? 'moved off a bay that cannot serve it',
          ...(body.force === true && { force: true }),
        }),
      )
      return { session: outcome.session, from: outcome.from }
    },
  )

  app.get(
    '/api/credits',
    {
      onRequest: ctx.guard('sessions.all'),
      schema: {
        tags: ['credits'],
        security,
        summary: 'Credits for minutes lost on bays that could not dispense, newest first',
        querystring: CreditQuery,
        response: { 200: Type.Array(Credit), 400: ErrorBody, ...authErrors },
      },
    },
    (request) => credits().list(request.query),
  )

  app.post(
    '/api/credits/:id/redeem',
    {
      onRequest: ctx.guard('sessions.any'),
      preHandler: booking,
      schema: {
        tags: ['credits'],
        security,
        summary: 'Staff redeem an issued credit (CREDIT_REDEEMED / CREDIT_ACCRUING 409 otherwise)',
        params: CreditParams,
        body: Type.Optional(Type.Object({ session_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })) }, { additionalProperties: false })),
        response: { 200: Credit, 404: ErrorBody, 409: ErrorBody, 400: ErrorBody, ...authErrors },
      },
    },
    async (request) => {
      const sessionId = request.body?.session_id
      return unwrap(await credits().redeem({ credit_id: request.params.id }, actorOf(principalOf(request)), sessionId !== undefined ? { session_id: sessionId } : {}))
    },
  )

  app.post(
    '/api/credits/redeem',
    {
      onRequest: ctx.guard('sessions.book'),
      preHandler: booking,
      schema: {
        tags: ['credits'],
        security,
        summary: 'Redeem a credit by its code (a later kiosk booking presents it), optionally naming the session it pays for',
        body: RedeemRequest,
        response: { 200: Credit, 404: ErrorBody, 409: ErrorBody, 400: ErrorBody, ...authErrors },
      },
    },
    async (request) => {
      const { code, session_id } = request.body
      if (code === undefined) throw new HttpError(400, 'CREDIT_INVALID', 'body.code: is required')
      return unwrap(await credits().redeem({ code }, actorOf(principalOf(request)), session_id !== undefined ? { session_id } : {}))
    },
  )
}
