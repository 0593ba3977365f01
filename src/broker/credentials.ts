/**
 * Credentials of dispensers, nodes and API tokens in `${dataDir}/credentials.json` (mode 0600).
 * A file rather than LevelDB so the CLI can change it while the hub runs (LevelDB allows one
 * process); the hub re-reads it when its mtime changes. Secrets are never stored: MQTT secrets as
 * scrypt hashes (DESIGN: "stored hashed"), API tokens as SHA-256 of a 256-bit random token (a slow
 * hash adds nothing against a random 256-bit secret, and HTTP checks a token on every request).
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto'
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Role } from './port.js'

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, keylen: number, opts: object) => Promise<Buffer>

// N=2^14, r=8: ~16 MiB and tens of ms per hash; verifications are cached after the first success.
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 }

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

export const ROLES: readonly Role[] = ['admin', 'kiosk', 'reservation']

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
  const parsed = JSON.parse(text) as Partial<CredentialFile>
  return { ...emptyCredentials(), ...parsed, version: 1 }
}

/** Atomic replace: a power cut leaves the old file or the new one, never half of one. */
export function writeCredentials(path: string, file: CredentialFile): void {
  const tmp = `${path}.${process.pid}.tmp`
  const fd = openSync(tmp, 'w', 0o600)
  try {
    writeSync(fd, JSON.stringify(file, null, 2) + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}

export function newSecret(): string {
  return randomBytes(24).toString('base64url')
}

export async function hashSecret(secret: string): Promise<SecretHash> {
  const salt = randomBytes(16)
  const hash = await scrypt(secret, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 })
  return { hash: hash.toString('base64'), salt: salt.toString('base64'), N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, created_at: new Date().toISOString() }
}

async function matches(secret: string, stored: SecretHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64')
  const actual = await scrypt(secret, Buffer.from(stored.salt, 'base64'), expected.length, {
    N: stored.N,
    r: stored.r,
    p: stored.p,
    maxmem: 64 * 1024 * 1024,
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
  verifyApiToken(token: string): { name: string; role: Role } | undefined
  /** a secret for an in-process simulated dispenser; kept in memory only, never written */
  issueEphemeralMachineSecret(id: number): string
}

export function createCredentialStore({ dataDir }: { dataDir: string }): CredentialStore {
  const path = credentialsPath(dataDir)
  let file = emptyCredentials()
  let loadedMtime = -1
  // Successful verifications, keyed by identity + SHA-256 of the secret, so a reconnect storm of
  // 1,000 dispensers costs no scrypt; dropped whenever the file changes (rotate/remove).
  const verified = new Set<string>()
  const ephemeral = new Map<number, string>()

  const current = (): CredentialFile => {
    let mtime = 0
    try {
      mtime = statSync(path).mtimeMs
    } catch {
      mtime = 0
    }
    if (mtime !== loadedMtime) {
      file = mtime === 0 ? emptyCredentials() : readCredentials(path)
      loadedMtime = mtime
      verified.clear()
    }
    return file
  }

  const check = async (key: string, secret: string, stored: SecretHash | undefined): Promise<boolean> => {
    if (!stored) return false
    const cacheKey = `${key}:${sha256(secret)}`
    if (verified.has(cacheKey)) return true
    const ok = await matches(secret, stored)
    if (ok) verified.add(cacheKey)
    return ok
  }

  return {
    async verifyMachine(id, secret) {
      const temp = ephemeral.get(id)
      if (temp !== undefined) {
        const a = Buffer.from(sha256(temp))
        if (timingSafeEqual(a, Buffer.from(sha256(secret)))) return true
      }
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
