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
  /** seconds until this address may try a token again; undefined = it may now (then often without a promise) */
  authBlocked(request: FastifyRequest): Promise<number | undefined> | undefined
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
  const windowMs = 60_000
  const failures = app.createRateLimit({ max: config.httpAuthFailuresPerMinute, timeWindow: windowMs, keyGenerator: address })
  // issue 17: every request with a token asked the plugin's store whether its address is blocked.
  // An address can only be over the limit within a window of one of its failures, so the addresses
  // with a failure are noted, with when that window ends at the latest (the store's own window
  // starts at the first failure and is never later); any other address skips the store. Bounded:
  // with too many noted, every address asks the store until all they could have counted is over.
  const noted = new Map<string, number>()
  // below the plugin's in-memory store (an LRU of 5,000 keys), which forgets addresses past that anyway
  const MAX_NOTED = 4096
  let askAllUntil = 0
  const mayBeBlocked = (key: string, now: number) => now < askAllUntil || (noted.get(key) ?? 0) > now
  const note = (key: string, now: number) => {
    const until = now + windowMs + 1000
    if (now < askAllUntil || (noted.size >= MAX_NOTED && !noted.has(key) && !sweep(now))) {
      askAllUntil = Math.max(askAllUntil, until)
      noted.clear()
      return
    }
    noted.set(key, until)
  }
  /** drops what is over; true when there is room again */
  const sweep = (now: number) => {
    for (const [key, until] of noted) if (until <= now) noted.delete(key)
    return noted.size < MAX_NOTED
  }
  return {
    authBlocked(request) {
      if (!mayBeBlocked(address(request), Date.now())) return undefined
      return failures(request, { increment: false }).then((status) => (!status.isAllowed && status.isExceeded ? Math.max(1, status.ttlInSeconds) : undefined))
    },
    async authFailed(request) {
      note(address(request), Date.now())
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
