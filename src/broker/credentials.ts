/**
 * Credentials of dispensers, nodes and API tokens in `${dataDir}/credentials.json` (mode 0600).
 * A file rather than LevelDB so the CLI can change it while the hub runs (LevelDB allows one
 * process); the hub re-reads it when its mtime changes. Secrets are never stored: MQTT secrets as
 * scrypt hashes (DESIGN: "stored hashed"), API tokens as SHA-256 of a 256-bit random token (a slow
 * hash adds nothing against a random 256-bit secret, and HTTP checks a token on every request).
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto'
import { closeSync, fchownSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import type { Logger } from 'pino'
import { ROLES, type Role } from '../protocol/identity.js'

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, keylen: number, opts: object) => Promise<Buffer>

// Every secret is made by the CLI (192 random bits), never chosen by a person, so scrypt here guards
// a stolen file, not weak passwords. N=2^12, r=8 (4 MiB): measured 7-12 ms per verify on the 2-core
// x86 build box under load (N=2^14: 33-37 ms); expect ~4x on a Raspberry Pi 4. What counts is the
// cold storm after a hub restart: 1,000 dispensers connected in 10.0 s here with the cache cold and
// 1.4 s warm (~15 s cold estimated on a Pi; N=2^14 would be ~60 s). Parameters are stored per entry,
// so a later change of cost keeps old entries valid.
const SCRYPT = { N: 4096, r: 8, p: 1, keylen: 32 }
const SCRYPT_MAXMEM = 64 * 1024 * 1024
// At most this many scrypt runs at once: they use libuv's pool (4 threads), which LevelDB and fs share.
const SCRYPT_CONCURRENCY = 2
// Cached refusals (same wrong secret again) are capped; cached successes need the secret, so they can't flood.
const MAX_CACHED_REFUSALS = 10_000

export interface SecretHash {
  hash: string
  salt: string
  N: number
  r: number
  p: number
  created_at: string
}

export interface CredentialFile {
  version: 1
  machines: Record<string, SecretHash>
  nodes: Record<string, SecretHash & { role: Role }>
  tokens: Record<string, { sha256: string; role: Role; created_at: string }>
}

export { ROLES }

export function credentialsPath(dataDir: string): string {
  return join(dataDir, 'credentials.json')
}

export function emptyCredentials(): CredentialFile {
  return { version: 1, machines: {}, nodes: {}, tokens: {} }
}

export function readCredentials(path: string): CredentialFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyCredentials()
    throw error
  }
  let parsed: Partial<CredentialFile>
  try {
    parsed = JSON.parse(text) as Partial<CredentialFile>
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}); restore it or move it away`)
  }
  return { ...emptyCredentials(), ...parsed, version: 1 }
}

/**
 * Atomic replace: a power cut leaves the old file or the new one, never half of one.
 * `owner`: give the file to this user (root running the CLI for the hub's service user).
 */
export function writeCredentials(path: string, file: CredentialFile, owner?: { uid: number; gid: number }): void {
  const tmp = `${path}.${process.pid}.tmp`
  const fd = openSync(tmp, 'w', 0o600)
  try {
    if (owner) fchownSync(fd, owner.uid, owner.gid)
    writeSync(fd, JSON.stringify(file, null, 2) + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
  // the rename itself must reach the disk too, or a power cut can bring the old file back
  const dir = openSync(dirname(path), 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}

export function newSecret(): string {
  return randomBytes(24).toString('base64url')
}

export async function hashSecret(secret: string): Promise<SecretHash> {
  const salt = randomBytes(16)
  const hash = await scrypt(secret, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: SCRYPT_MAXMEM })
  return { hash: hash.toString('base64'), salt: salt.toString('base64'), N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, created_at: new Date().toISOString() }
}

async function matches(secret: string, stored: SecretHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64')
  const actual = await scrypt(secret, Buffer.from(stored.salt, 'base64'), expected.length, {
    N: stored.N,
    r: stored.r,
    p: stored.p,
    maxmem: SCRYPT_MAXMEM,
  })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** API tokens carry their name so lookup is direct: `dh_<name>_<secret>`. */
export function newApiToken(name: string): string {
  return `dh_${name}_${randomBytes(32).toString('base64url')}`
}

function tokenName(token: string): string | undefined {
  const m = /^dh_([A-Za-z0-9_.-]+?)_([A-Za-z0-9_-]{43})$/.exec(token)
  return m ? m[1] : undefined
}

export interface CredentialStore {
  verifyMachine(id: number, secret: string): Promise<boolean>
  /** the node's role, or undefined when unknown or wrong secret */
  verifyNode(name: string, secret: string): Promise<Role | undefined>
  /** `dh_<name>_<secret>` -> who it is, or undefined (unknown name, wrong or malformed token) */
  verifyApiToken(token: string): { name: string; role: Role } | undefined
  /** a secret for an in-process simulated dispenser; kept in memory only, never written */
  issueEphemeralMachineSecret(id: number): string
}

export interface CredentialStoreDeps {
  dataDir: string
  /** told when credentials.json can't be read (the last good contents stay in use) */
  log?: Logger
}

/** Runs at most `limit` tasks at once, the rest in arrival order. */
function createLimiter(limit: number) {
  let running = 0
  const waiting: Array<() => void> = []
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    running++
    try {
      return await task()
    } finally {
      running--
      waiting.shift()?.()
    }
  }
}

export function createCredentialStore({ dataDir, log }: CredentialStoreDeps): CredentialStore {
  const path = credentialsPath(dataDir)
  let file = emptyCredentials()
  let loadedStamp = ''
  // Verification results keyed by identity + SHA-256 of the secret, so a reconnect storm of 1,000
  // dispensers costs no scrypt after the first round, and a device retrying a stale secret costs one.
  // Both are dropped whenever the file changes (add/rotate/remove), so a result is never stale.
  const verified = new Set<string>()
  const refused = new Set<string>()
  // Concurrent checks of the same identity + secret (a dispenser retrying mid-storm) share one scrypt.
  const pending = new Map<string, Promise<boolean>>()
  const limit = createLimiter(SCRYPT_CONCURRENCY)
  const ephemeral = new Map<number, string>()

  // Checked at every use (one stat): mtime, inode (rename) and size together catch every CLI write.
  const current = (): CredentialFile => {
    let stamp = 'none'
    try {
      const st = statSync(path)
      stamp = `${st.mtimeMs}:${st.ino}:${st.size}`
    } catch {
      stamp = 'none'
    }
    if (stamp === loadedStamp) return file
    loadedStamp = stamp
    verified.clear()
    refused.clear()
    try {
      file = stamp === 'none' ? emptyCredentials() : readCredentials(path)
    } catch (error) {
      log?.error({ err: error, path }, 'credentials file unreadable; keeping the last good one')
    }
    return file
  }

  const check = async (key: string, secret: string, stored: SecretHash | undefined): Promise<boolean> => {
    if (!stored) return false
    const cacheKey = `${key}:${sha256(secret)}`
    if (verified.has(cacheKey)) return true
    if (refused.has(cacheKey)) return false
    let run = pending.get(cacheKey)
    if (!run) {
      run = limit(() => matches(secret, stored)).finally(() => pending.delete(cacheKey))
      pending.set(cacheKey, run)
    }
    const ok = await run
    // remember it only if the entry is still the one checked (a reload makes new objects)
    current()
    if (lookup(key) === stored) {
      if (ok) verified.add(cacheKey)
      else {
        if (refused.size >= MAX_CACHED_REFUSALS) refused.clear()
        refused.add(cacheKey)
      }
    }
    return ok
  }

  const lookup = (key: string): SecretHash | undefined =>
    key.startsWith('m') ? file.machines[key.slice(1)] : file.nodes[key.slice(1)]

  return {
    async verifyMachine(id, secret) {
      const temp = ephemeral.get(id)
      if (temp !== undefined && timingSafeEqual(Buffer.from(sha256(temp)), Buffer.from(sha256(secret)))) return true
      return check(`m${id}`, secret, current().machines[String(id)])
    },
    async verifyNode(name, secret) {
      const entry = current().nodes[name]
      return entry && (await check(`n${name}`, secret, entry)) ? entry.role : undefined
    },
    verifyApiToken(token) {
      const name = tokenName(token)
      const entry = name === undefined ? undefined : current().tokens[name]
      if (!name || !entry) return undefined
      const same = timingSafeEqual(Buffer.from(sha256(token)), Buffer.from(entry.sha256))
      return same ? { name, role: entry.role } : undefined
    },
    issueEphemeralMachineSecret(id) {
      const secret = newSecret()
      ephemeral.set(id, secret)
      return secret
    },
  }
}
