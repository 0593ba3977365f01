/**
 * Failed-login throttling (issue 10 defect 6: a wrong-password storm delayed real logins by
 * 12.8 s). Pure, with an injected clock. Failures are counted per username and per remote
 * address; past the limit, that key is in back-off (1 s, doubling up to the maximum) and every
 * try is refused at once, without running scrypt. A key's failures are forgotten after a quiet
 * period; a username's also by a good login.
 *
 * - The address limit is 4x the username one: one address trying many names is credential
 *   stuffing; one address hammering one name (the usual storm) must not lock that address out of
 *   every other name (on a venue LAN a tool, a kiosk and a dispenser can share a NAT address).
 * - A username's back-off does not apply where that username already logged in successfully
 *   (same address), so an attacker elsewhere can't keep a real dispenser locked out.
 */
import type { Clock } from '../lib/clock.js'

export interface AuthThrottleOptions {
  clock: Clock
  /** failures per username before back-off (the address limit is 4x) */
  maxFailures: number
  backoffMaxMs: number
  /** most keys remembered; the oldest are dropped beyond it (an attacker can't grow memory) */
  maxKeys?: number
}

export interface AuthThrottle {
  /** ms of back-off left for this login, or 0 when it may be checked */
  blockedFor(username: string, address: string | undefined): number
  failed(username: string, address: string | undefined): void
  succeeded(username: string, address: string | undefined): void
}

interface KeyState {
  failures: number
  blockedUntil: number
  lastFailure: number
}

const BASE_BACKOFF_MS = 1000

export function createAuthThrottle({ clock, maxFailures, backoffMaxMs, maxKeys = 10_000 }: AuthThrottleOptions): AuthThrottle {
  // Map: own keys only (a username like `__proto__` is just a key) and insertion order for eviction.
  const keys = new Map<string, KeyState>()
  const knownGood = new Set<string>()
  // A key quiet for this long starts again from zero.
  const forgetAfterMs = Math.max(backoffMaxMs * 2, 10 * 60_000)

  const userKey = (username: string) => `u\0${username}`
  const addressKey = (address: string) => `a\0${address}`
  const pairKey = (username: string, address: string) => `${username}\0${address}`

  const state = (key: string, now: number): KeyState | undefined => {
    const s = keys.get(key)
    if (s && now - s.lastFailure > forgetAfterMs) {
      keys.delete(key)
      return undefined
    }
    return s
  }

  const fail = (key: string, limit: number, now: number) => {
    const s = state(key, now) ?? { failures: 0, blockedUntil: 0, lastFailure: now }
    keys.delete(key) // re-insert: most recent last, so eviction drops the stalest
    s.failures++
    s.lastFailure = now
    if (s.failures >= limit) {
      const backoff = Math.min(BASE_BACKOFF_MS * 2 ** Math.min(s.failures - limit, 20), backoffMaxMs)
      s.blockedUntil = now + backoff
    }
    keys.set(key, s)
    while (keys.size > maxKeys) keys.delete(keys.keys().next().value!)
  }

  return {
    blockedFor(username, address) {
      const now = clock.now()
      let until = 0
      const exempt = address !== undefined && knownGood.has(pairKey(username, address))
      if (!exempt) until = Math.max(until, state(userKey(username), now)?.blockedUntil ?? 0)
      if (address !== undefined) until = Math.max(until, state(addressKey(address), now)?.blockedUntil ?? 0)
      return Math.max(0, until - now)
    },
    failed(username, address) {
      const now = clock.now()
      fail(userKey(username), maxFailures, now)
      if (address !== undefined) fail(addressKey(address), maxFailures * 4, now)
    },
    succeeded(username, address) {
      keys.delete(userKey(username))
      // The address keeps its count (it decays): a client with one valid login must not use it
      // to reset its budget for guessing others.
      if (address === undefined) return
      const pair = pairKey(username, address)
      knownGood.delete(pair)
      knownGood.add(pair)
      while (knownGood.size > maxKeys) knownGood.delete(knownGood.values().next().value!)
    },
  }
}
