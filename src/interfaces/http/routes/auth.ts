/**
 * Staff sign-in (issue 13): POST /api/auth/login, POST /api/auth/logout,
 * POST /api/auth/logout-all (sign out everywhere), GET /api/auth/me. The sign-in is an
 * httpOnly, SameSite=Strict cookie: page scripts never see it and other sites never send it.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { actorLabel } from '../../../protocol/actor.js'
import { PermissionNames, can } from '../../../protocol/permissions.js'
import { SIGN_IN_COOKIE } from '../../../staff/index.js'
import { actorOf, principalOf, signInCookie } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { HttpError, unwrap } from '../errors.js'
import { ErrorBody, authErrors } from '../schemas.js'
import { AuthMe, Done, LoginBody, LoginReply } from '../schemas-staff.js'

const tags = ['auth']

function setCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAgeS: number): void {
  const secure = request.protocol === 'https' ? '; Secure' : ''
  reply.header('set-cookie', `${SIGN_IN_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`)
}

export const authRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const staff = () => {
    if (!ctx.staff) throw new HttpError(404, 'NOT_FOUND', 'staff sign-in is not available on this hub')
    return ctx.staff
  }

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags,
        summary: 'Staff sign-in with username and password; sets the sign-in cookie',
        body: LoginBody,
        response: { 200: LoginReply, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const outcome = await staff().login(request.body.username, request.body.password, request.ip)
      if (!outcome.ok) {
        if (outcome.code === 'LOGIN_THROTTLED') reply.header('retry-after', String(outcome.retryAfterS ?? 1))
        return reply.status(outcome.code === 'LOGIN_THROTTLED' ? 429 : 401).send({ error: outcome.code, message: outcome.message })
      }
      setCookie(request, reply, outcome.token, ctx.config.staffSessionHours * 3600)
      return { user: outcome.user, expires_at: outcome.expires_at, idle_minutes: outcome.idle_minutes }
    },
  )

  app.post(
    '/api/auth/logout',
    { schema: { tags, summary: 'End this sign-in (clears the cookie)', response: { 200: Done } } },
    async (request, reply) => {
      const cookie = signInCookie(request.headers)
      if (cookie && ctx.staff) await ctx.staff.logout(cookie)
      setCookie(request, reply, '', 0)
      return { ok: true }
    },
  )

  app.post(
    '/api/auth/logout-all',
    {
      onRequest: ctx.guard('me.read'),
      schema: { tags, summary: 'Sign out everywhere: ends every sign-in of this staff user', response: { 200: Done, 400: ErrorBody, ...authErrors } },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      if (principal.user === undefined) throw new HttpError(400, 'NOT_SIGNED_IN', 'a token has no sign-ins; sign in with a password')
      unwrap(await staff().change({ kind: 'sign-out', username: principal.user }, actorLabel(actorOf(principal))))
      setCookie(request, reply, '', 0)
      return { ok: true }
    },
  )

  app.get(
    '/api/auth/me',
    {
      onRequest: ctx.guard('me.read'),
      schema: { tags, summary: 'Who is signed in (or whose token this is) and what they may do', response: { 200: AuthMe, ...authErrors } },
    },
    (request) => {
      const p = principalOf(request)
      return { ...p, permissions: PermissionNames.filter((perm) => can(p.role, perm)) }
    },
  )
}
