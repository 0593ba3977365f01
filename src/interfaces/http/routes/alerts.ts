/** /api/alerts: offline, error, failed commands and low balls (admin, staff; viewers read). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Alert } from '../../../protocol/messages.js'
import type { RouteContext } from '../deps.js'
import { unwrap } from '../errors.js'
import { AlertList, AlertParams, ErrorBody, authErrors } from '../schemas.js'

const security = [{ bearer: [] }]
const tags = ['alerts']

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
      schema: { tags, security, summary: 'Acknowledge an alert', params: AlertParams, response: { 200: Alert, 404: ErrorBody, ...authErrors } },
    },
    async (request) => unwrap(await ctx.machines.acknowledgeAlert(request.params.id)),
  )
}
