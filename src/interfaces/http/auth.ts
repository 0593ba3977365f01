/**
 * Bearer tokens with roles (DESIGN §6). A route names the roles it admits; the check runs
 * in `onRequest`, before the body is parsed, so an anonymous caller learns nothing about
 * the body's schema. 401 = no or unknown token, 403 = known token, wrong role.
 */
import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { ROLES } from '../../protocol/identity.js'
import type { Logger } from 'pino'
import { NodeNames } from '../../protocol/topics.js'
import type { HttpDeps, Principal, Role } from './deps.js'
import { HttpError } from './errors.js'
import type { HttpLimits } from './limits.js'

export type TokenCheck = (token: string | undefined) => Principal | undefined

/** Longer than any token the hub issues; longer ones are unknown without hashing megabytes. */
const MAX_TOKEN_LENGTH = 512

/**
 * admin token first (constant-time compare), then the credentials store. Never throws: a token
 * that makes the lookup fail (issue 10: `dh_constructor_…`) is an unknown token, logged.
 */
export function createTokenCheck(deps: Pick<HttpDeps, 'adminToken' | 'verifyToken'> & { log?: Pick<Logger, 'error'> }): TokenCheck {
  const admin = Buffer.from(deps.adminToken)
  return (token) => {
    if (!token || typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined
    try {
      const given = Buffer.from(token)
      if (given.length === admin.length && timingSafeEqual(given, admin)) return { name: NodeNames.admin, role: 'admin' }
      const principal: unknown = deps.verifyToken(token)
      return isPrincipal(principal) ? principal : undefined
    } catch (error) {
      deps.log?.error({ err: error }, 'token lookup failed; treated as an unknown token')
      return undefined
    }
  }
}

/** Only a plain answer counts: a lookup that found `constructor` on a prototype is no principal. */
function isPrincipal(value: unknown): value is Principal {
  if (typeof value !== 'object' || value === null) return false
  const { name, role } = value as Record<string, unknown>
  return typeof name === 'string' && typeof role === 'string'
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

/** Failed-token throttling (limits.ts); optional so unit tests can build a bare guard. */
export type AuthThrottle = Pick<HttpLimits, 'authBlocked' | 'authFailed'>

export function tooManyFailures(waitS: number): HttpError {
  return new HttpError(429, 'RATE_LIMITED', `too many failed token checks from this address; retry in ${waitS} s`)
}

export function createRoleGuard(check: TokenCheck, throttle?: AuthThrottle): RoleGuard {
  return (...roles) =>
    async function guard(request: FastifyRequest, reply: FastifyReply) {
      const wait = await throttle?.authBlocked(request)
      if (wait !== undefined) {
        reply.header('retry-after', String(wait))
        throw tooManyFailures(wait)
      }
      const token = bearerToken(request)
      if (!token) throw new HttpError(401, 'UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <token>)')
      const principal = check(token)
      if (!principal) {
        await throttle?.authFailed(request)
        throw new HttpError(401, 'UNAUTHORIZED', 'unknown or revoked token')
      }
      if (!roles.includes(principal.role)) {
        throw new HttpError(403, 'FORBIDDEN', `role ${principal.role} may not use this route (needs ${roles.join(' or ')})`)
      }
      principals.set(request, principal)
    }
}

/** Every role: kiosk and reservation may book and read the schedule (DESIGN §6). */
export const ALL_ROLES: Role[] = [...ROLES]
