/** /api/staff: managers (and the admin token) add, change, remove and sign out staff users. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { actorLabel } from '../../../protocol/actor.js'
import { actorOf, principalOf } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { HttpError, unwrap } from '../errors.js'
import { ErrorBody, authErrors } from '../schemas.js'
import { Done, NewStaff, StaffList, StaffParams, StaffPatch, StaffUser } from '../schemas-staff.js'

const security = [{ bearer: [] }]
const tags = ['staff']

export const staffRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const guard = ctx.guard('staff.manage')
  const staff = () => {
    if (!ctx.staff) throw new HttpError(404, 'NOT_FOUND', 'staff users are not available on this hub')
    return ctx.staff
  }
  const by = (request: Parameters<typeof principalOf>[0]) => actorLabel(actorOf(principalOf(request)))

  app.get('/api/staff', { onRequest: guard, schema: { tags, security, summary: 'Staff users', response: { 200: StaffList, ...authErrors } } }, () => staff().list())

  app.post(
    '/api/staff',
    {
      onRequest: guard,
      schema: { tags, security, summary: 'Add a staff user', body: NewStaff, response: { 201: StaffUser, 400: ErrorBody, 409: ErrorBody, ...authErrors } },
    },
    async (request, reply) => {
      const { username, role, password } = request.body
      const user = unwrap(await staff().change({ kind: 'add', username, role, password }, by(request)))
      return reply.status(201).send(user!)
    },
  )

  app.patch(
    '/api/staff/:username',
    {
      onRequest: guard,
      schema: {
        tags,
        security,
        summary: 'Change a role or set a new password (either signs the user out)',
        params: StaffParams,
        body: StaffPatch,
        response: { 200: StaffUser, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, ...authErrors },
      },
    },
    async (request) => {
      const { username } = request.params
      const { role, password } = request.body
      const actor = by(request)
      if (role !== undefined) unwrap(await staff().change({ kind: 'role', username, role }, actor))
      if (password !== undefined) unwrap(await staff().change({ kind: 'password', username, password }, actor))
      return staff().get(username)!
    },
  )

  app.delete(
    '/api/staff/:username',
    {
      onRequest: guard,
      schema: { tags, security, summary: 'Remove a staff user (ends their sign-ins)', params: StaffParams, response: { 200: Done, 404: ErrorBody, 409: ErrorBody, ...authErrors } },
    },
    async (request) => {
      unwrap(await staff().change({ kind: 'remove', username: request.params.username }, by(request)))
      return { ok: true }
    },
  )

  app.post(
    '/api/staff/:username/sign-out',
    {
      onRequest: guard,
      schema: { tags, security, summary: "End every sign-in of a staff user", params: StaffParams, response: { 200: Done, 404: ErrorBody, ...authErrors } },
    },
    async (request) => {
      unwrap(await staff().change({ kind: 'sign-out', username: request.params.username }, by(request)))
      return { ok: true }
    },
  )
}
