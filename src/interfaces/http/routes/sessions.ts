/**
 * /api/sessions: the HTTP door to the one booking rule (scheduling.submit / cancel), the
 * same calls the MQTT internal/manager adapter makes. Ownership: a session belongs to the
 * node that created it (the token's name); kiosk and reservation tokens see and change
 * only their own sessions, admins all (scheduling enforces it on changes, SESSION_FORBIDDEN).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { mayAccessSession, sessionReadRefusal } from '../../../protocol/access.js'
import type { FastifyRequest } from 'fastify'
import { Session, SessionRecord } from '../../../protocol/messages.js'
import { actorOf, demand, principalOf } from '../auth.js'
import { can } from '../../../protocol/permissions.js'
import { bookingChannelOf } from '../../../protocol/calendar.js'
import { dayBounds, type IdempotencyKey } from '../../../scheduling/index.js'
import type { Principal, RouteContext } from '../deps.js'
import { HttpError, unwrap } from '../errors.js'
import { timeBooking } from '../../../metrics/index.js'
import { CancelQuery, ErrorBody, IdempotencyHeaders, SessionList, SessionListQuery, SessionParams, SessionPatch, authErrors } from '../schemas.js'

const security = [{ bearer: [] }]
const tags = ['sessions']

/** `Idempotency-Key` (issue 10), already checked by the header schema. */
function idempotencyKeyOf(request: FastifyRequest): IdempotencyKey | undefined {
  const key = request.headers['idempotency-key']
  return typeof key === 'string' ? { key, field: 'Idempotency-Key' } : undefined
}

function optionsFor(principal: Principal, reason?: string) {
  return {
    origin: principal.name,
    isAdmin: can(principal.role, 'sessions.any'),
    actor: actorOf(principal),
    channel: bookingChannelOf(principal.role),
    ...(reason !== undefined && { reason }),
  }
}

/** The read rule internal/manager applies too (protocol/access.ts). */
function assertCanSee(principal: Principal, session: SessionRecord): void {
  const refused = sessionReadRefusal(principal, session)
  if (refused) throw new HttpError(403, 'SESSION_FORBIDDEN', refused)
}

export const sessionRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const read = ctx.guard('sessions.read')
  const book = ctx.guard('sessions.book')
  // One booking budget per caller across create / move / cancel (limits.ts), after the guard; staff users each have their own.
  const booking = ctx.limits.booking((request) => principalOf(request).user ?? principalOf(request).name)

  // issue 11: the seconds a session could not dispense, from its credits
  const withLost = (s: SessionRecord): SessionRecord => {
    const lost = ctx.credits?.lostSeconds(s.session_id) ?? 0
    return lost > 0 ? { ...s, lost_seconds: lost } : s
  }

  const mustGet = async (id: number): Promise<SessionRecord> => {
    const session = ctx.scheduling.get(id)
    if (session) return session
    // Archived (ended long ago, issue 13): still readable, never changeable.
    if (await ctx.scheduling.find(id)) throw new HttpError(409, 'SESSION_ENDED', `session ${id} has ended and is archived; it cannot be changed`)
    throw new HttpError(404, 'SESSION_NOT_FOUND', `session ${id} does not exist`)
  }
  const mustFind = async (id: number): Promise<SessionRecord> => {
    const session = await ctx.scheduling.find(id)
    if (!session) throw new HttpError(404, 'SESSION_NOT_FOUND', `session ${id} does not exist`)
    return session
  }

  app.post(
    '/api/sessions',
    {
      onRequest: book,
      preHandler: booking,
      schema: {
        tags,
        security,
        summary: 'Book (reserved), block (maintenance, admin) or cancel (cancelled) bays',
        description:
          'Same body and rules as a Session on internal/manager (DESIGN §4). 201 when created, 200 for an idempotent repeat or an update. ' +
          'Session ids are the hub\'s: omit session_id to create; a session_id names an existing session to change (404 when there is none). ' +
          'Send an Idempotency-Key header to retry safely after a lost reply: the same key and body within 24 h get the first answer again; ' +
          'the same key with another body is refused with 422.',
        headers: IdempotencyHeaders,
        body: Session,
        response: { 200: SessionRecord, 201: SessionRecord, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody, ...authErrors, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      if (request.body.status === 'maintenance') demand(principal, 'maintenance.block', 'block bays for maintenance')
      const body = { ...request.body, origin_node: principal.name }
      const idempotency = idempotencyKeyOf(request)
      // timed from the request's arrival (Fastify's elapsedTime) to the durable answer
      const submitted = ctx.scheduling.submit(body, { ...optionsFor(principal, request.body.reason), ...(idempotency && { idempotency }) })
      const outcome = unwrap(await timeBooking(ctx.metrics, 'http', performance.now() - reply.elapsedTime, submitted))
      // A repeat by Idempotency-Key gets the first answer again, 201 included.
      return reply.status(outcome.created ? 201 : 200).send(outcome.session)
    },
  )

  app.get(
    '/api/sessions',
    {
      onRequest: read,
      schema: {
        tags,
        security,
        summary: "Sessions overlapping a day (default today); kiosk/reservation tokens see only their own",
        querystring: SessionListQuery,
        response: { 200: SessionList, ...authErrors, 400: ErrorBody },
      },
    },
    (request) => {
      const principal = principalOf(request)
      const { date, machine_id, status } = request.query
      const day = unwrap(ctx.scheduling.checkDate(date ?? ctx.today()))
      const { from, to } = dayBounds(ctx.config.timezone, day)
      // scheduling.list returns sessions overlapping [from, to), ordered by start
      return ctx.scheduling
        .list({ from, to, ...(machine_id !== undefined && { machineId: machine_id }), ...(status !== undefined && { status }) })
        .filter((s) => mayAccessSession(principal, s))
        .map(withLost)
    },
  )

  app.get(
    '/api/sessions/:id',
    {
      onRequest: read,
      schema: { tags, security, summary: 'One session', params: SessionParams, response: { 200: SessionRecord, 404: ErrorBody, ...authErrors } },
    },
    async (request) => {
      const session = await mustFind(request.params.id)
      assertCanSee(principalOf(request), session)
      return withLost(session)
    },
  )

  app.patch(
    '/api/sessions/:id',
    {
      onRequest: book,
      preHandler: booking,
      schema: {
        tags,
        security,
        summary: 'Move (machine_id, start_time) or extend/shorten (duration) a session',
        params: SessionParams,
        body: SessionPatch,
        response: { 200: SessionRecord, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      const current = await mustGet(request.params.id)
      // A finished session cannot be revived: scheduling refuses it (SESSION_ENDED), as on MQTT.
      const patch: SessionPatch = request.body
      const next: Session = {
        session_id: current.session_id,
        machine_id: patch.machine_id ?? current.machine_id,
        status: current.status === 'maintenance' ? 'maintenance' : 'reserved',
        start_time: patch.start_time ?? current.start_time,
        duration: patch.duration ?? current.duration,
        origin_node: current.origin_node,
        ...(patch.details !== undefined && { details: patch.details }),
      }
      return unwrap(await ctx.scheduling.submit(next, optionsFor(principal, patch.reason))).session
    },
  )

  app.delete(
    '/api/sessions/:id',
    {
      onRequest: book,
      preHandler: booking,
      schema: {
        tags,
        security,
        summary: 'Cancel a session (before its end)',
        params: SessionParams,
        querystring: CancelQuery,
        response: { 200: SessionRecord, 404: ErrorBody, 409: ErrorBody, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request)
      await mustGet(request.params.id)
      return unwrap(await ctx.scheduling.cancel(request.params.id, optionsFor(principal, request.query.reason))).session
    },
  )
}
