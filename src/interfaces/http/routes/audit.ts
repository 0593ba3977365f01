/** GET /api/audit: the audit log, newest first, with filters and paging (read only: no route edits or deletes). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AuditEntry, AuditKinds } from '../../../protocol/audit.js'
import type { RouteContext } from '../deps.js'
import { HttpError } from '../errors.js'
import { ErrorBody, authErrors } from '../schemas.js'

const MAX_EPOCH_S = 32503680000 // year 3000: bounds keep ids and dates sane
const AuditQuery = Type.Object(
  {
    from: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_EPOCH_S, description: 'epoch s, inclusive' })),
    to: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_EPOCH_S, description: 'epoch s, exclusive' })),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 160, description: 'staff:NAME, token:NAME, node:NAME, machine:ID or system' })),
    session_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })),
    machine_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 9999 })),
    kind: Type.Optional(Type.Enum([...AuditKinds])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    before: Type.Optional(Type.String({ pattern: '^\\d{15}-\\d{6}$', description: 'the `next` of the previous page' })),
  },
  { additionalProperties: false },
)
const AuditPage = Type.Object({ entries: Type.Array(AuditEntry), next: Type.Union([Type.String(), Type.Null()]) })

export const auditRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  app.get(
    '/api/audit',
    {
      onRequest: ctx.guard('audit.read'),
      schema: {
        tags: ['audit'],
        security: [{ bearer: [] }],
        summary: 'Who changed what, newest first; filters: time range, actor, session, bay, kind; pages via `next`',
        querystring: AuditQuery,
        response: { 200: AuditPage, 400: ErrorBody, ...authErrors },
      },
    },
    async (request) => {
      if (!ctx.audit) throw new HttpError(404, 'NOT_FOUND', 'this hub keeps no audit log')
      return ctx.audit.query(request.query)
    },
  )
}
