/**
 * Failed sign-in throttling (DESIGN §9 "failed-auth throttling"), PURE: time comes in as an
 * argument. Each key (a username, an address) gets `free` failures; after that every further
 * attempt must wait baseMs, 2 x baseMs, 4 x ... up to maxMs after the last failure. Attempts that
 * must wait are refused before any password hashing, so a storm against one name costs no
 * scrypt and delays no other name. Keys are forgotten `forgetMs` after their last failure and
 * the table is capped (oldest dropped first), so spraying names cannot grow memory.
 */
export interface ThrottlePolicy {
  free: number
  baseMs: number
  maxMs: number
  forgetMs: number
  maxKeys: number
}

interface Entry {
  failures: number
  lastFailure: number
}

export interface Throttle {
  /** ms until `key` may try again; 0 = now */
  waitMs(key: string, nowMs: number): number
  fail(key: string, nowMs: number): void
  succeed(key: string): void
  size(): number
}

export function createThrottle(policy: ThrottlePolicy): Throttle {
  const entries = new Map<string, Entry>()

  const live = (key: string, nowMs: number): Entry | undefined => {
    const e = entries.get(key)
    if (e && nowMs - e.lastFailure > policy.forgetMs) {
      entries.delete(key)
      return undefined
    }
    return e
  }

  return {
    waitMs(key, nowMs) {
      const e = live(key, nowMs)
      if (!e || e.failures < policy.free) return 0
      const delay = Math.min(policy.baseMs * 2 ** (e.failures - policy.free), policy.maxMs)
      return Math.max(0, e.lastFailure + delay - nowMs)
    },
    fail(key, nowMs) {
      const e = live(key, nowMs) ?? { failures: 0, lastFailure: nowMs }
      entries.delete(key) // re-insert: Map order is then least recently failed first
      entries.set(key, { failures: e.failures + 1, lastFailure: nowMs })
      while (entries.size > policy.maxKeys) entries.delete(entries.keys().next().value!)
    },
    succeed(key) {
      entries.delete(key)
    },
    size: () => entries.size,
  }
}
