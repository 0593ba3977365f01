/**
 * HTTP rate limits (issue 10), on @fastify/rate-limit's in-memory store:
 *
 * - failed token checks per client address (HUB_HTTP_AUTH_FAILURES_PER_MINUTE): only failures
 *   count, so a working kiosk is never slowed by its own traffic; past the limit the address gets
 *   429 without its token being looked at, on REST and on /api/live alike;
 * - bookings per token (HUB_HTTP_BOOKINGS_PER_MINUTE): POST / PATCH / DELETE /api/sessions share
 *   one budget per node name, so one kiosk cannot flood the single writer.
 *
 * Both answer 429 `{ error: 'RATE_LIMITED', message }` with `retry-after`.
 */
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify'
import type { Config } from '../../config/index.js'
import { HttpError } from './errors.js'

export interface HttpLimits {
  /** seconds until this address may try a token again; undefined = it may now */
  authBlocked(request: FastifyRequest): Promise<number | undefined>
  /** count one failed token check of this address */
  authFailed(request: FastifyRequest): Promise<void>
  /** preHandler for booking routes (after the role guard: keyed by the token's node name) */
  booking(keyOf: (request: FastifyRequest) => string): preHandlerHookHandler
}

export async function installLimits(app: FastifyInstance, config: Pick<Config, 'httpAuthFailuresPerMinute' | 'httpBookingsPerMinute'>): Promise<HttpLimits> {
  // global: false: only what is limited below; pages, docs and health are not.
  await app.register(rateLimit, { global: false })
  // The plugin's default key throws when the socket has no address any more (closed early,
  // in-memory injection): an address-less request shares one bucket instead.
  const address = (request: FastifyRequest) => normalizeIP(request.ip ?? 'unknown', 64)
  const failures = app.createRateLimit({ max: config.httpAuthFailuresPerMinute, timeWindow: 60_000, keyGenerator: address })
  return {
    async authBlocked(request) {
      const status = await failures(request, { increment: false })
      return !status.isAllowed && status.isExceeded ? Math.max(1, status.ttlInSeconds) : undefined
    },
    async authFailed(request) {
      await failures(request)
    },
    booking(keyOf) {
      const bookings = app.createRateLimit({ max: config.httpBookingsPerMinute, timeWindow: 60_000, keyGenerator: keyOf })
      return async (request, reply) => {
        const status = await bookings(request)
        if (!status.isAllowed && status.isExceeded) {
          const wait = Math.max(1, status.ttlInSeconds)
          reply.header('retry-after', String(wait))
          throw new HttpError(429, 'RATE_LIMITED', `more than ${config.httpBookingsPerMinute} booking requests a minute from this token; retry in ${wait} s`)
        }
      }
    },
  }
}
