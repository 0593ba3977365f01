/**
 * GET /metrics in Prometheus text format (DESIGN §6), rendered by prom-client from the hub's
 * registry (src/metrics). monitor token, admin or a manager: it lists the state of every bay and
 * the booking volume, and kiosks share the venue LAN. Prometheus sends the token with
 * `authorization: { type: Bearer, credentials: <monitor token> }` in its scrape config.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { RouteContext } from '../deps.js'
import type { HubMetrics } from '../../../metrics/index.js'
import { authErrors } from '../schemas.js'

interface MetricsOptions extends RouteContext {
  registry: HubMetrics
}

export const metricsRoutes: FastifyPluginAsyncTypebox<MetricsOptions> = async (app, ctx) => {
  app.get(
    '/metrics',
    {
      onRequest: ctx.guard('metrics.read'),
      schema: { tags: ['health'], summary: 'Prometheus metrics (monitor or admin token, managers)', security: [{ bearer: [] }], response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }), ...authErrors } },
    },
    async (_request, reply) => {
      const { contentType, text } = await ctx.registry.render()
      reply.type(contentType)
      return text
    },
  )
}
