/** GET /api/health (public, for load balancers and the installer) and GET /api/me. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { ErrorBody, Health, Me } from '../schemas.js'

export const healthRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  // monotonic: a clock step (NTP, a staff-confirmed time) does not change the uptime
  const elapsed = () => ctx.clock.monotonic?.() ?? ctx.clock.now()
  const startedAt = elapsed()

  app.get(
    '/api/health',
    {
      schema: { tags: ['health'], summary: 'Is the hub up (no token needed)', response: { 200: Health } },
      // The reply is built right here from typed parts (Health admits extra properties), so
      // JSON.stringify writes what the schema serializer would. That one would be compiled on the
      // first request, a fast-json-stringify build with an Ajv instance for the nullable clock
      // fields: the start-up probe (spawn -> first 200, issue 17) would wait for it.
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    () => {
      const machines = ctx.machines.list()
      return {
        ok: true,
        version: ctx.version ?? '0.0.0',
        uptime_s: Math.round((elapsed() - startedAt) / 1000),
        machines: { online: machines.filter((m) => m.online).length, total: machines.length },
        ...(ctx.timekeeping && { clock: ctx.timekeeping.status() }),
        ...(ctx.health?.() ?? {}),
      }
    },
  )

  app.get(
    '/api/me',
    {
      onRequest: ctx.guard('me.read'),
      schema: {
        tags: ['health'],
        summary: 'Who the token belongs to (pages use it to check a token at sign-in)',
        security: [{ bearer: [] }],
        response: { 200: Me, 401: ErrorBody },
      },
    },
    (request) => principalOf(request),
  )
}
