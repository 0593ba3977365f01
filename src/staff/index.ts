/**
 * createStaff: named staff users (users.json, see users-file.ts), password sign-in with
 * throttling, and the sign-ins (cookie sessions) they hold. A sign-in is a random 256-bit
 * token given to the browser as an httpOnly cookie; the hub keeps only its SHA-256 (LevelDB
 * 'staff-sign-ins'), so a copied database signs nobody in. It ends when idle longer than
 * HUB_STAFF_IDLE_MINUTES, at HUB_STAFF_SESSION_HOURS after sign-in, on sign-out, and for all of
 * a user's sign-ins when the user signs out everywhere, changes password or role, or is removed.
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import { ok, type Result } from '../lib/result.js'
import { sha256Hex } from '../lib/sha256.js'
import type { StaffRole } from '../protocol/permissions.js'
import { decoyHash, verifyPassword, PASSWORD_MAX } from './passwords.js'
import { createThrottle } from './throttle.js'
import { changeUser, viewOf, type StaffErrorCode, type StaffUserView, type UserChange } from './users.js'
import { fileStamp, readUsers, usersPath, type UsersFile, type UserJournalEntry } from './users-file.js'

export type { StaffUserView, UserChange, StaffErrorCode } from './users.js'
export type { UserJournalEntry } from './users-file.js'

/** What is stored per sign-in, under the SHA-256 of its token. */
export interface SignIn {
  username: string
  /** epoch s */
  created_at: number
  last_seen: number
}

/** The part of a level sublevel (json values) the sign-ins use. */
export interface SignInDb {
  put(key: string, value: SignIn, options?: { sync?: boolean }): Promise<void>
  del(key: string, options?: { sync?: boolean }): Promise<void>
  iterator(): AsyncIterable<[string, unknown]>
}

export interface StaffDeps {
  dataDir: string
  db: SignInDb
  clock: Clock
  log: Logger
  idleMinutes: number
  sessionHours: number
}

export interface SignedIn {
  username: string
  role: StaffRole
}

export type LoginOutcome =
  | { ok: true; token: string; user: StaffUserView; expires_at: number; idle_minutes: number }
  | { ok: false; code: 'LOGIN_FAILED' | 'LOGIN_THROTTLED'; message: string; retryAfterS?: number }

export interface Staff {
  login(username: string, password: string, address: string): Promise<LoginOutcome>
  /** the user a sign-in token belongs to, when it is still valid (touches its idle timer) */
  authenticate(token: string): SignedIn | undefined
  logout(token: string): Promise<void>
  list(): StaffUserView[]
  get(username: string): StaffUserView | undefined
  /** add / remove / role / password / sign-out, as `actor` (an actor label) */
  change(change: UserChange, actor: string): Promise<Result<StaffUserView | null, StaffErrorCode>>
  /** the change journal of users.json (for the audit log) */
  journal(): readonly UserJournalEntry[]
  signIns(): number
  start(): Promise<void>
  stop(): Promise<void>
}

// A password storm against one name waits for that name only; one address trying many names
// (a script) waits too, later, since a shared counter NAT may carry several staff tablets.
const USER_POLICY = { free: 5, baseMs: 1000, maxMs: 15 * 60_000, forgetMs: 60 * 60_000, maxKeys: 10_000 }
const ADDRESS_POLICY = { free: 20, baseMs: 1000, maxMs: 15 * 60_000, forgetMs: 60 * 60_000, maxKeys: 10_000 }
/** Writing last_seen on every request would cost a disk write each; a minute of idle-timer slack is fine. */
const TOUCH_PERSIST_S = 60
const MAX_SIGN_INS_PER_USER = 20
const MAX_SIGN_INS = 5000
export const SIGN_IN_COOKIE = 'dh_session'

export function createStaff(deps: StaffDeps): Staff {
  const { db, clock, log } = deps
  const path = usersPath(deps.dataDir)
  const idleS = deps.idleMinutes * 60
  const maxS = deps.sessionHours * 3600
  const signIns = new Map<string, SignIn & { persisted_seen: number }>()
  const byUser = createThrottle(USER_POLICY)
  const byAddress = createThrottle(ADDRESS_POLICY)
  const inFlight = new Set<string>()
  let file: UsersFile = { users: new Map(), journal: [] }
  let stamp = ''
  const nowS = () => clock.now() / 1000

  const current = (): UsersFile => {
    const next = fileStamp(path)
    if (next === stamp) return file
    stamp = next
    try {
      file = readUsers(path)
    } catch (error) {
      log.error({ err: error, path }, 'users file unreadable; keeping the last good one')
    }
    return file
  }

  const drop = (key: string) => {
    if (!signIns.delete(key)) return
    db.del(key, { sync: true }).catch((error: unknown) => log.warn({ err: error }, 'sign-in delete failed'))
  }

  const valid = (s: SignIn, now: number): SignedIn | undefined => {
    const user = current().users.get(s.username)
    if (!user || s.created_at < user.signed_out_at) return undefined
    if (now - s.last_seen > idleS || now - s.created_at > maxS) return undefined
    return { username: user.username, role: user.role }
  }

  /** Oldest sign-ins go first when a user (or the hub) holds too many. */
  const makeRoom = (username: string) => {
    const mine = [...signIns].filter(([, s]) => s.username === username).sort((a, b) => a[1].created_at - b[1].created_at)
    for (const [key] of mine.slice(0, Math.max(0, mine.length - MAX_SIGN_INS_PER_USER + 1))) drop(key)
    const now = nowS()
    for (const [key, s] of signIns) if (!valid(s, now)) drop(key)
    while (signIns.size >= MAX_SIGN_INS) drop(signIns.keys().next().value!)
  }

  const refuse = (): LoginOutcome => ({ ok: false, code: 'LOGIN_FAILED', message: 'unknown username or wrong password' })

  return {
    async login(rawName, password, address) {
      const username = rawName.trim().toLowerCase()
      const nowMs = clock.now()
      const uKey = `u:${username}`
      const aKey = `a:${address}`
      const waitMs = Math.max(byUser.waitMs(uKey, nowMs), byAddress.waitMs(aKey, nowMs))
      // One check per name at a time: a storm on a name queues no scrypt runs behind it.
      if (waitMs > 0) {
        const retryAfterS = Math.ceil(waitMs / 1000)
        return { ok: false, code: 'LOGIN_THROTTLED', message: `too many failed sign-ins for this name or address; try again in ${retryAfterS} s`, retryAfterS }
      }
      if (inFlight.has(uKey)) return { ok: false, code: 'LOGIN_THROTTLED', message: 'a sign-in for this name is being checked; try again in 1 s', retryAfterS: 1 }
      inFlight.add(uKey)
      let user
      let matches = false
      try {
        user = current().users.get(username)
        // Unknown names cost the same scrypt as known ones: the answer time tells nothing.
        matches = password.length <= PASSWORD_MAX && (await verifyPassword(password, user?.password ?? (await decoyHash())))
      } finally {
        inFlight.delete(uKey)
      }
      user = current().users.get(username) // removed while hashing: refused
      if (!matches || !user) {
        byUser.fail(uKey, clock.now())
        byAddress.fail(aKey, clock.now())
        log.info({ username: username.slice(0, 64), address }, 'staff sign-in refused')
        return refuse()
      }
      byUser.succeed(uKey)
      makeRoom(username)
      const token = randomBytes(32).toString('base64url')
      const now = nowS()
      const signIn: SignIn = { username, created_at: now, last_seen: now }
      await db.put(sha256Hex(token), signIn, { sync: true })
      signIns.set(sha256Hex(token), { ...signIn, persisted_seen: now })
      log.info({ username, role: user.role }, 'staff signed in')
      return { ok: true, token, user: viewOf(user), expires_at: now + maxS, idle_minutes: deps.idleMinutes }
    },

    authenticate(token) {
      const key = sha256Hex(token)
      const s = signIns.get(key)
      if (!s) return undefined
      const now = nowS()
      const who = valid(s, now)
      if (!who) {
        drop(key)
        return undefined
      }
      s.last_seen = now
      if (now - s.persisted_seen >= TOUCH_PERSIST_S) {
        s.persisted_seen = now
        const { persisted_seen: _, ...stored } = s
        db.put(key, stored).catch((error: unknown) => log.warn({ err: error }, 'sign-in touch failed'))
      }
      return who
    },

    async logout(token) {
      const key = sha256Hex(token)
      if (!signIns.delete(key)) return
      await db.del(key, { sync: true })
    },

    list: () => [...current().users.values()].map(viewOf).sort((a, b) => a.username.localeCompare(b.username)),
    get(username) {
      const user = current().users.get(username)
      return user ? viewOf(user) : undefined
    },

    async change(change, actor) {
      const outcome = await changeUser(change, { path, now: clock.now(), actor })
      if (!outcome.ok) return outcome
      // Every sign-in made before the change ends now, even one in the same millisecond
      // (users.json's signed_out_at covers changes made by the CLI, at the next use).
      if (change.kind !== 'add') for (const [key, s] of signIns) if (s.username === change.username) drop(key)
      return ok(outcome.value.user)
    },

    journal: () => current().journal,
    signIns: () => signIns.size,

    async start() {
      current()
      const now = nowS()
      for await (const [key, value] of db.iterator()) {
        const s = value as SignIn
        const ok = s && typeof s === 'object' && typeof s.username === 'string' && typeof s.created_at === 'number' && typeof s.last_seen === 'number'
        if (ok && valid(s, now)) signIns.set(key, { ...s, persisted_seen: s.last_seen })
        else await db.del(key)
      }
      log.info({ users: file.users.size, signIns: signIns.size }, 'staff loaded')
    },
    async stop() {},
  }
}

