/** /api/alerts: offline, error, failed commands and low balls (admin, staff; viewers read). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Reason } from '../../../protocol/audit.js'
import { Alert, AlertQuery } from '../../../protocol/messages.js'
import { actorOf, principalOf } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { unwrap } from '../errors.js'
import { AlertList, AlertParams, ErrorBody, authErrors } from '../schemas.js'

const security = [{ bearer: [] }]
const tags = ['alerts']
const AckBody = Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false })

export const alertRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {

  app.get(
    '/api/alerts',
    {
      onRequest: ctx.guard('machines.read'),
      schema: {
        tags,
        security,
        summary: 'Alerts, newest first; filter by state (open / cleared), kind, bay, acknowledged; at most `limit` (100, up to 500)',
        querystring: AlertQuery,
        response: { 200: AlertList, 400: ErrorBody, ...authErrors },
      },
    },
    (request) => {
      const { state = 'all', kind, machine_id, acknowledged, limit = 100 } = request.query
      return ctx.machines
        .alerts()
        .filter((a) => state === 'all' || (state === 'open') === (a.cleared_at === null))
        .filter((a) => kind === undefined || a.kind === kind)
        .filter((a) => machine_id === undefined || a.machine_id === machine_id)
        .filter((a) => acknowledged === undefined || a.acknowledged === acknowledged)
        .sort((a, b) => b.raised_at - a.raised_at)
        .slice(0, limit)
    },
  )

  app.post(
    '/api/alerts/:id/dismiss',
    {
      onRequest: ctx.guard('alerts.ack'),
      schema: {
        tags,
        security,
        summary: 'Remove a cleared alert from the list (409 ALERT_OPEN while its condition lasts)',
        params: AlertParams,
        response: { 200: Alert, 404: ErrorBody, 409: ErrorBody, ...authErrors },
      },
    },
    (request) => unwrap(ctx.machines.dismissAlert(request.params.id)),
  )

  app.post(
    '/api/alerts/:id/ack',
    {
      onRequest: ctx.guard('alerts.ack'),
      // the body is optional: none is the same as {}
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {}
      },
      schema: {
        tags,
        security,
        summary: 'Acknowledge an alert',
        description: 'The body is optional; a `reason` is kept in the audit log.',
        params: AlertParams,
        body: AckBody,
        response: { 200: Alert, 400: ErrorBody, 404: ErrorBody, ...authErrors },
      },
    },
    async (request) => {
      const reason = request.body?.reason
      const options = { actor: actorOf(principalOf(request)), ...(reason !== undefined && { reason }) }
      return unwrap(await ctx.machines.acknowledgeAlert(request.params.id, options))
    },
  )
}
