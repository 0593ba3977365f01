/**
 * Bearer tokens with roles (DESIGN §6). A route names the roles it admits; the check runs
 * in `onRequest`, before the body is parsed, so an anonymous caller learns nothing about
 * the body's schema. 401 = no or unknown token, 403 = known token, wrong role.
 */
import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { ROLES } from '../../protocol/identity.js'
import { NodeNames } from '../../protocol/topics.js'
import type { HttpDeps, Principal, Role } from './deps.js'
import { HttpError } from './errors.js'

export type TokenCheck = (token: string | undefined) => Principal | undefined

/** admin token first (constant-time compare), then the credentials store. */
export function createTokenCheck(deps: Pick<HttpDeps, 'adminToken' | 'verifyToken'>): TokenCheck {
  const admin = Buffer.from(deps.adminToken)
  return (token) => {
    if (!token) return undefined
    const given = Buffer.from(token)
    if (given.length === admin.length && timingSafeEqual(given, admin)) return { name: NodeNames.admin, role: 'admin' }
    return deps.verifyToken(token)
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
  return m?.[1]
}

const principals = new WeakMap<FastifyRequest, Principal>()

/** The authenticated caller; only valid in routes guarded by `requireRole`. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request)
  if (!principal) throw new HttpError(500, 'INTERNAL', 'route has no role guard')
  return principal
}

export type RoleGuard = (...roles: Role[]) => onRequestHookHandler

export function createRoleGuard(check: TokenCheck): RoleGuard {
  return (...roles) =>
    function guard(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) {
      const token = bearerToken(request)
      if (!token) return done(new HttpError(401, 'UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <token>)'))
      const principal = check(token)
      if (!principal) return done(new HttpError(401, 'UNAUTHORIZED', 'unknown or revoked token'))
      if (!roles.includes(principal.role)) {
        return done(new HttpError(403, 'FORBIDDEN', `role ${principal.role} may not use this route (needs ${roles.join(' or ')})`))
      }
      principals.set(request, principal)
      done()
    }
}

/** Every role: kiosk and reservation may book and read the schedule (DESIGN §6). */
export const ALL_ROLES: Role[] = [...ROLES]
