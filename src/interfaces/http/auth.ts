/**
 * Who is calling, and may they (DESIGN §6, §9 "Roles"). Two ways in: a bearer token (API
 * tokens, the admin token) or a staff sign-in cookie. A route names the one Permission it needs
 * (protocol/permissions.ts); the check runs in `onRequest`, before the body is parsed, so an
 * anonymous caller learns nothing about the body's schema. 401 = nobody known, 403 = known, not allowed.
 */
import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { Actor } from '../../protocol/actor.js'
import { ALL_PRINCIPAL_ROLES, can, rolesWith, type Permission } from '../../protocol/permissions.js'
import { NodeNames } from '../../protocol/topics.js'
import { SIGN_IN_COOKIE } from '../../staff/index.js'
import type { Logger } from 'pino'
import type { HttpDeps, Principal } from './deps.js'
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

/** Only a plain answer with a known role counts: a lookup that found `constructor` on a prototype is no principal. */
function isPrincipal(value: unknown): value is Principal {
  if (typeof value !== 'object' || value === null) return false
  const { name, role } = value as Record<string, unknown>
  return typeof name === 'string' && (ALL_PRINCIPAL_ROLES as readonly unknown[]).includes(role)
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
  return m?.[1]
}

/** The sign-in cookie's value, if the request carries one. */
export function signInCookie(headers: { cookie?: string | undefined }): string | undefined {
  const header = headers.cookie
  if (!header || header.length > 8192) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === SIGN_IN_COOKIE) {
      const value = part.slice(eq + 1).trim()
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined
    }
  }
  return undefined
}

/** A staff sign-in as a principal: staff act through the admin portal, under their own name. */
export function createCookieCheck(deps: Pick<HttpDeps, 'staff'>): (cookie: string | undefined) => Principal | undefined {
  return (cookie) => {
    if (!cookie || !deps.staff) return undefined
    const who = deps.staff.authenticate(cookie)
    return who ? { name: NodeNames.admin, role: who.role, user: who.username } : undefined
  }
}

/** Who a principal is in the audit log. */
export function actorOf(principal: Principal): Actor {
  return principal.user !== undefined ? { kind: 'staff', name: principal.user } : { kind: 'token', name: principal.name }
}

const principals = new WeakMap<FastifyRequest, Principal>()

/** The authenticated caller; only valid in routes guarded by `guard`. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request)
  if (!principal) throw new HttpError(500, 'INTERNAL', 'route has no role guard')
  return principal
}

/** 403 unless the principal holds the permission. */
export function demand(principal: Principal, permission: Permission, what = 'use this route'): void {
  if (!can(principal.role, permission)) {
    throw new HttpError(403, 'FORBIDDEN', `role ${principal.role} may not ${what} (needs ${rolesWith(permission).join(' or ')})`)
  }
}

export type Guard = (permission: Permission) => onRequestHookHandler

/**
 * A cookie rides along with any request the browser makes, so a signed-in request that
 * changes something must come from our own pages: SameSite=Strict already keeps other
 * sites' requests cookie-less, and a foreign Origin header is refused as well.
 */
function crossSite(request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return false
  const origin = request.headers.origin
  if (!origin) return false
  try {
    return new URL(origin).host !== request.headers.host
  } catch {
    return true
  }
}

/** Failed-token throttling (limits.ts); optional so unit tests can build a bare guard. */
export type AuthThrottle = Pick<HttpLimits, 'authBlocked' | 'authFailed'>

export function tooManyFailures(waitS: number): HttpError {
  return new HttpError(429, 'RATE_LIMITED', `too many failed token checks from this address; retry in ${waitS} s`)
}

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; error: HttpError; retryAfterS?: number }

/** The caller of a request (bearer token first, else the sign-in cookie), or the error to answer. */
export async function authenticate(
  request: FastifyRequest,
  check: TokenCheck,
  cookieCheck: (cookie: string | undefined) => Principal | undefined,
  throttle?: AuthThrottle,
): Promise<AuthOutcome> {
  const refuse = (error: HttpError): AuthOutcome => ({ ok: false, error })
  const blocked = throttle?.authBlocked(request)
  const wait = blocked === undefined ? undefined : await blocked
  if (wait !== undefined) return { ok: false, error: tooManyFailures(wait), retryAfterS: wait }
  const token = bearerToken(request)
  if (token) {
    const principal = check(token)
    if (principal) return { ok: true, principal }
    await throttle?.authFailed(request)
    return refuse(new HttpError(401, 'UNAUTHORIZED', 'unknown or revoked token'))
  }
  const cookie = signInCookie(request.headers)
  const principal = cookieCheck(cookie)
  if (!principal) {
    if (cookie) await throttle?.authFailed(request)
    return refuse(new HttpError(401, 'UNAUTHORIZED', cookie ? 'your sign-in has ended; sign in again' : 'missing bearer token (Authorization: Bearer <token>) or staff sign-in (POST /api/auth/login)'))
  }
  if (crossSite(request)) return refuse(new HttpError(403, 'FORBIDDEN', 'cross-site request refused'))
  return { ok: true, principal }
}

export function createGuard(check: TokenCheck, cookieCheck: (cookie: string | undefined) => Principal | undefined, throttle?: AuthThrottle): Guard {
  return (permission) =>
    async function guard(request: FastifyRequest, reply: FastifyReply) {
      const outcome = await authenticate(request, check, cookieCheck, throttle)
      if (!outcome.ok) {
        if (outcome.retryAfterS !== undefined) reply.header('retry-after', String(outcome.retryAfterS))
        throw outcome.error
      }
      const who = outcome.principal
      if (!can(who.role, permission)) {
        throw new HttpError(403, 'FORBIDDEN', `role ${who.role} may not use this route (needs ${rolesWith(permission).join(' or ')})`)
      }
      principals.set(request, who)
    }
}
