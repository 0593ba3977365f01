/** /api/alerts: offline, error, failed commands and low balls (admin, staff; viewers read). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Reason } from '../../../protocol/audit.js'
import { Alert } from '../../../protocol/messages.js'
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
    { onRequest: ctx.guard('machines.read'), schema: { tags, security, summary: 'Alerts, newest first', response: { 200: AlertList, ...authErrors } } },
    () => [...ctx.machines.alerts()].sort((a, b) => b.raised_at - a.raised_at),
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
