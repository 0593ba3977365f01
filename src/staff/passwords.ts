/**
 * Staff passwords as scrypt hashes. Unlike dispenser secrets (192 random bits, see
 * broker/credentials.ts), people choose these, so the cost is OWASP's scrypt setting for 16 MiB
 * of memory: N=2^14, r=8, p=5 (~0.2 s per check on the build box, expect ~4x on a Pi 4). Sign-ins
 * are rare and throttled, so the cost is paid once per sign-in, never per request (the cookie
 * session carries the sign-in). Parameters are stored per entry: a later change keeps old hashes valid.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, keylen: number, opts: object) => Promise<Buffer>

export interface PasswordHash {
  hash: string
  salt: string
  N: number
  r: number
  p: number
}

const COST = { N: 2 ** 14, r: 8, p: 2, keylen: 32 }
const MAXMEM = 64 * 1024 * 1024
/** Longer input is refused before hashing: scrypt's cost grows with the password length only a little, but the request body need not. */
export const PASSWORD_MAX = 256
export const PASSWORD_MIN = 8

/** Why a new password is refused, or undefined. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < PASSWORD_MIN) return `must have at least ${PASSWORD_MIN} characters`
  if (password.length > PASSWORD_MAX) return `must have at most ${PASSWORD_MAX} characters`
  return undefined
}

// At most two scrypt runs at once: they use libuv's pool (4 threads), which LevelDB and fs share.
let running = 0
const waiting: Array<() => void> = []
async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((resolve) => waiting.push(resolve))
  running++
  try {
    return await task()
  } finally {
    running--
    waiting.shift()?.()
  }
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16)
  const hash = await limited(() => scrypt(password, salt, COST.keylen, { N: COST.N, r: COST.r, p: COST.p, maxmem: MAXMEM }))
  return { hash: hash.toString('base64'), salt: salt.toString('base64'), N: COST.N, r: COST.r, p: COST.p }
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  if (password.length > PASSWORD_MAX) return false
  const expected = Buffer.from(stored.hash, 'base64')
  const actual = await limited(() =>
    scrypt(password, Buffer.from(stored.salt, 'base64'), expected.length || COST.keylen, { N: stored.N, r: stored.r, p: stored.p, maxmem: MAXMEM }),
  )
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** A hash no password matches, checked for unknown names so they take as long as known ones. */
let decoy: Promise<PasswordHash> | undefined
export function decoyHash(): Promise<PasswordHash> {
  decoy ??= hashPassword(randomBytes(18).toString('base64'))
  return decoy
}

export function isPasswordHash(value: unknown): value is PasswordHash {
  const v = value as Partial<PasswordHash> | null
  return (
    typeof v === 'object' && v !== null &&
    typeof v.hash === 'string' && typeof v.salt === 'string' &&
    Number.isInteger(v.N) && Number.isInteger(v.r) && Number.isInteger(v.p) &&
    v.N! >= 2 && v.N! <= 2 ** 20 && v.r! >= 1 && v.r! <= 32 && v.p! >= 1 && v.p! <= 16
  )
}
