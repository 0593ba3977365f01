/**
 * /api/machines: bay state, ball level, presence and report history; admin overrides.
 * Admin only: the list carries addresses and firmware, and overrides outrank the schedule
 * (DESIGN §5 priority admin > schedule > kiosk/reservation).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MachineState } from '../../../protocol/messages.js'
import { actorOf, principalOf } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { HttpError, unwrap } from '../errors.js'
import { ErrorBody, MachineDetail, MachineList, MachineParams, OverrideBody, authErrors } from '../schemas.js'

const security = [{ bearer: [] }]
const tags = ['machines']

export const machineRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const guard = ctx.guard('machines.read')

  app.get(
    '/api/machines',
    { onRequest: guard, schema: { tags, security, summary: 'Every bay', response: { 200: MachineList, ...authErrors } } },
    () => ctx.machines.list(),
  )

  app.get(
    '/api/machines/:id',
    {
      onRequest: guard,
      schema: {
        tags,
        security,
        summary: 'One bay with its recent reports',
        params: MachineParams,
        response: { 200: MachineDetail, 404: ErrorBody, ...authErrors },
      },
    },
    (request) => {
      const machine = ctx.machines.get(request.params.id)
      if (!machine) throw new HttpError(404, 'MACHINE_UNKNOWN', `bay ${request.params.id} is not served by this hub`)
      return { machine, history: ctx.machines.history(request.params.id) }
    },
  )

  app.post(
    '/api/machines/:id/override',
    {
      onRequest: ctx.guard('machines.override'),
      schema: {
        tags,
        security,
        summary: 'Put a bay in maintenance / idle (stop) / active (start) until a time, or release it to the schedule',
        params: MachineParams,
        body: OverrideBody,
        response: { 200: MachineState, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, ...authErrors },
      },
    },
    async (request) => {
      const { status, scheduled_until, release, confirm, reason } = request.body
      if (!release && status === undefined) {
        throw new HttpError(400, 'VALIDATION_FAILED', 'body.status: is required unless release is true')
      }
      const principal = principalOf(request)
      const command = {
        machine_id: request.params.id,
        status: status ?? 'idle',
        scheduled_until: scheduled_until ?? null,
        ...(release && { release: true }),
        ...(confirm !== undefined && { confirm }),
        ...(reason !== undefined && { reason }),
      }
      return unwrap(await ctx.machines.override(command, { source: 'admin', node: principal.name, actor: actorOf(principal) }))
    },
  )
}
