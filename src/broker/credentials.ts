/**
 * Credentials of dispensers, nodes and API tokens in `${dataDir}/credentials.json` (mode 0600).
 * A file rather than LevelDB so the CLI can change it while the hub runs (LevelDB allows one
 * process); the hub re-reads it when its mtime changes. Secrets are never stored (DESIGN: "stored
 * hashed"): MQTT secrets as a salted HMAC-SHA-256, API tokens as SHA-256 of a 256-bit random token.
 *
 * Why not a slow hash: every dispenser and node secret is 192 random bits made by the CLI
 * (`newSecret`), never chosen by a person, so a stolen file can't be brute-forced whatever the hash
 * costs; a slow hash (scrypt, as entries written before issue 17 are) only guards weak, human
 * passwords (staff passwords stay scrypt: src/staff/passwords.ts). What scrypt did cost: 4 MiB and
 * 7-12 ms per first login, 1,000 of them in the cold connect storm after a restart (10 s on the
 * build box, ~15 s estimated on a Pi), and ~31 MB of RSS that glibc kept in its arenas afterwards.
 *
 * Old scrypt entries (they carry N, r, p) still verify, so existing installs keep working; the hub
 * never rewrites them (the CLI owns the file): `machine rotate` / `node rotate` writes the new
 * format. scrypt checks keep their limits: 2 at a time, a fair queue per name, cached results.
 */
import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { journalId, lockFile, replaceFileDurably } from '../lib/durable-file.js'
import { sha256Hex } from '../lib/sha256.js'
import type { Logger } from 'pino'
import { ROLES, type Role } from '../protocol/identity.js'
import type { ApiTokenRole } from '../protocol/permissions.js'

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, keylen: number, opts: object) => Promise<Buffer>

/** The `alg` of entries written now: HMAC-SHA-256 keyed by a 16-byte random salt, 32-byte digest. */
const HMAC_ALG = 'hmac-sha256'
const SALT_BYTES = 16
// Old entries: scrypt with the parameters stored per entry (written with N=2^12, r=8, p=1). A
// tampered entry asking for more memory than this fails its check instead of running.
const SCRYPT_MAXMEM = 64 * 1024 * 1024
// At most this many scrypt runs at once: they use libuv's pool (4 threads), which LevelDB and fs share.
const SCRYPT_CONCURRENCY = 2
// Cached refusals (same wrong secret again) are capped; cached successes need the secret, so they can't flood.
const MAX_CACHED_REFUSALS = 10_000

/** A dispenser's or node's secret as stored: new entries `alg: 'hmac-sha256'`; old ones scrypt. */
export type SecretHash = HmacSecretHash | ScryptSecretHash

export interface HmacSecretHash {
  alg: typeof HMAC_ALG
  /** base64 HMAC-SHA-256(key = salt, secret) */
  hash: string
  /** base64, 16 random bytes */
  salt: string
  created_at: string
}

/** As the hub and CLI wrote them before issue 17; verified, never written. */
export interface ScryptSecretHash {
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
  tokens: Record<string, { sha256: string; role: ApiTokenRole; created_at: string }>
  /**
   * The change journal (issue 13): every add / rotate / remove writes its entry in the same atomic
   * replace as the change, so neither exists without the other; the hub copies new entries into
   * the audit log exactly once (src/audit). Never a secret or a hash, only names and roles.
   */
  journal: CredentialJournalEntry[]
}

export interface CredentialJournalEntry {
  id: string
  /** epoch s */
  at: number
  /** actor label (protocol/actor.ts), e.g. `node:cli` */
  actor: string
  kind: 'credential.added' | 'credential.rotated' | 'credential.removed'
  /** `token:NAME`, `node:NAME` or `machine:ID` */
  target: string
  before: { role?: string } | null
  after: { role?: string } | null
}

/** Journal entries kept in the file: plenty for the hub to copy them after any outage or CLI burst. */
const JOURNAL_KEPT = 1000

/** Appends the journal entry of a change to `file` (written with it by writeCredentials). */
export function journalCredentialChange(file: CredentialFile, change: Omit<CredentialJournalEntry, 'id' | 'at'>, nowMs = Date.now()): CredentialJournalEntry {
  const entry: CredentialJournalEntry = { id: journalId(nowMs), at: nowMs / 1000, ...change }
  file.journal.push(entry)
  return entry
}

function isJournalEntry(value: unknown): value is CredentialJournalEntry {
  const e = value as Partial<CredentialJournalEntry> | null
  return typeof e === 'object' && e !== null && typeof e.id === 'string' && typeof e.at === 'number' && typeof e.actor === 'string' && typeof e.kind === 'string' &&
    ['credential.added', 'credential.rotated', 'credential.removed'].includes(e.kind) && typeof e.target === 'string'
}

export { ROLES }

export function credentialsPath(dataDir: string): string {
  return join(dataDir, 'credentials.json')
}

export function emptyCredentials(): CredentialFile {
  return { version: 1, machines: Object.create(null), nodes: Object.create(null), tokens: Object.create(null), journal: [] }
}

export function readCredentials(path: string): CredentialFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyCredentials()
    throw error
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}); restore it or move it away`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${path} must hold a JSON object`)
  const sections = parsed as Record<string, unknown>
  const journal = Array.isArray(sections.journal) ? sections.journal.filter(isJournalEntry) : []
  return { version: 1, machines: section(sections, 'machines', path), nodes: section(sections, 'nodes', path), tokens: section(sections, 'tokens', path), journal }
}

/**
 * A section as a null-prototype record: names are looked up in it (by the CLI with `in`), and
 * `constructor`, `__proto__` or `toString` must be absent unless really written there.
 */
function section<T>(parsed: Record<string, unknown>, name: string, path: string): Record<string, T> {
  const out = Object.create(null) as Record<string, T>
  const value = Object.hasOwn(parsed, name) ? parsed[name] : undefined
  if (value === undefined) return out
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path}: "${name}" must be an object`)
  for (const [key, entry] of Object.entries(value)) {
    // defineProperty: a plain assignment of "__proto__" would set the prototype instead
    Object.defineProperty(out, key, { value: entry as T, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** Atomic, synced replace (lib/durable-file.ts); `owner`: the hub's service user when root runs the CLI. */
export function writeCredentials(path: string, file: CredentialFile, owner?: { uid: number; gid: number }): void {
  replaceFileDurably(path, JSON.stringify({ ...file, journal: file.journal.slice(-JOURNAL_KEPT) }, null, 2) + '\n', owner)
}

export function newSecret(): string {
  return randomBytes(24).toString('base64url')
}

/**
 * Gives machine `id` a new secret in credentials.json and returns it (the hub adopting a device,
 * issue 16): any secret the bay had stops working at once, as with `machine rotate`. Under the
 * same lock file as the CLI, so the two never lose each other's entries.
 */
export async function issueMachineSecret(dataDir: string, id: number, actor: string): Promise<string> {
  const path = credentialsPath(dataDir)
  const unlock = await lockFile(`${path}.lock`)
  try {
    const file = readCredentials(path)
    const secret = newSecret()
    const existed = Object.hasOwn(file.machines, String(id))
    journalCredentialChange(file, { actor, kind: existed ? 'credential.rotated' : 'credential.added', target: `machine:${id}`, before: existed ? {} : null, after: {} })
    Object.defineProperty(file.machines, String(id), { value: await hashSecret(secret), enumerable: true, writable: true, configurable: true })
    writeCredentials(path, file)
    return secret
  } finally {
    unlock()
  }
}

/** The stored form of a new secret (async as before, so callers need not change when it does). */
export async function hashSecret(secret: string): Promise<SecretHash> {
  const salt = randomBytes(SALT_BYTES)
  return { alg: HMAC_ALG, hash: hmac(salt, secret).toString('base64'), salt: salt.toString('base64'), created_at: new Date().toISOString() }
}

const hmac = (salt: Buffer, secret: string) => createHmac('sha256', salt).update(secret).digest()

/** Equal-length digests compared in constant time; a wrong length (a tampered entry) is a refusal. */
function sameDigest(actual: Buffer, expected: Buffer): boolean {
  return expected.length === actual.length && timingSafeEqual(actual, expected)
}

/** How an entry is checked: at once (HMAC), or with scrypt (old entries), or never (malformed). */
function kindOf(stored: SecretHash): 'hmac' | 'scrypt' | 'invalid' {
  const e = stored as Partial<HmacSecretHash & ScryptSecretHash> | null
  if (typeof e !== 'object' || e === null || typeof e.hash !== 'string' || typeof e.salt !== 'string') return 'invalid'
  if (Object.hasOwn(e, 'alg')) return e.alg === HMAC_ALG ? 'hmac' : 'invalid'
  return [e.N, e.r, e.p].every((x) => Number.isSafeInteger(x) && (x as number) > 0) ? 'scrypt' : 'invalid'
}

function matchesHmac(secret: string, stored: HmacSecretHash): boolean {
  return sameDigest(hmac(Buffer.from(stored.salt, 'base64'), secret), Buffer.from(stored.hash, 'base64'))
}

/** An old entry; parameters scrypt refuses (a tampered N, over maxmem) are a refusal, not an error. */
async function matchesScrypt(secret: string, stored: ScryptSecretHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64')
  // written with 32 bytes; a tampered length must not make scrypt derive megabytes
  if (expected.length === 0 || expected.length > 64) return false
  try {
    const actual = await scrypt(secret, Buffer.from(stored.salt, 'base64'), expected.length, { N: stored.N, r: stored.r, p: stored.p, maxmem: SCRYPT_MAXMEM })
    return sameDigest(actual, expected)
  } catch {
    return false
  }
}

/** API tokens carry their name so lookup is direct: `dh_<name>_<secret>`. */
export function newApiToken(name: string): string {
  return `dh_${name}_${randomBytes(32).toString('base64url')}`
}

/** A token's entry in the file: its SHA-256, never the token. */
export const apiTokenEntry = (token: string, role: ApiTokenRole, now = new Date()): CredentialFile['tokens'][string] => ({ sha256: sha256Hex(token), role, created_at: now.toISOString() })

function tokenName(token: string): string | undefined {
  const m = /^dh_([A-Za-z0-9_.-]+?)_([A-Za-z0-9_-]{43})$/.exec(token)
  return m ? m[1] : undefined
}

/** Limits what a verification may cost, from the caller (auth throttling). */
export interface VerifyOptions {
  /**
   * Asked when the check's turn comes, before scrypt runs: false skips it (the result is then
   * false and not remembered). Lets a login that got throttled while it waited cost nothing.
   */
  shouldRun?: () => boolean
}

export interface CredentialStore {
  verifyMachine(id: number, secret: string, options?: VerifyOptions): Promise<boolean>
  /** the node's role, or undefined when unknown or wrong secret */
  verifyNode(name: string, secret: string, options?: VerifyOptions): Promise<Role | undefined>
  /** `dh_<name>_<secret>` -> who it is, or undefined (unknown name, wrong or malformed token) */
  verifyApiToken(token: string): { name: string; role: ApiTokenRole } | undefined
  /** a secret for an in-process simulated dispenser; kept in memory only, never written */
  issueEphemeralMachineSecret(id: number): string
  /** the change journal of credentials.json (for the audit log), as the file holds it now */
  journal(): readonly CredentialJournalEntry[]
}

export interface CredentialStoreDeps {
  dataDir: string
  /** told when credentials.json can't be read (the last good contents stay in use) */
  log?: Logger
}

/**
 * Runs at most `limit` tasks at once. Waiting tasks are queued per key (the login name) and the
 * keys take turns, so 500 queued guesses at one name delay another name's login by about `limit`
 * runs, not 500 (issue 10 defect 6).
 */
export function createFairLimiter(limit: number) {
  let running = 0
  // Map keeps insertion order: the first key is the next to run; it goes to the back after its turn.
  const queues = new Map<string, Array<() => void>>()
  const next = () => {
    while (running < limit) {
      const first = queues.entries().next()
      if (first.done) return
      const [key, queue] = first.value
      queues.delete(key)
      const start = queue.shift()!
      if (queue.length > 0) queues.set(key, queue)
      running++
      start()
    }
  }
  return async <T>(key: string, task: () => Promise<T>): Promise<T> => {
    await new Promise<void>((resolve) => {
      const queue = queues.get(key)
      if (queue) queue.push(resolve)
      else queues.set(key, [resolve])
      next()
    })
    try {
      return await task()
    } finally {
      running--
      next()
    }
  }
}

/** The file's sections as Maps: lookups by network-supplied names see only real entries. */
interface Index {
  journal: readonly CredentialJournalEntry[]
  machines: Map<string, SecretHash>
  nodes: Map<string, SecretHash & { role: Role }>
  tokens: Map<string, { sha256: string; role: ApiTokenRole; created_at: string }>
}

const indexOf = (file: CredentialFile): Index => ({
  journal: file.journal,
  machines: new Map(Object.entries(file.machines)),
  nodes: new Map(Object.entries(file.nodes)),
  tokens: new Map(Object.entries(file.tokens)),
})

export function createCredentialStore({ dataDir, log }: CredentialStoreDeps): CredentialStore {
  const path = credentialsPath(dataDir)
  let index = indexOf(emptyCredentials())
  let loadedStamp = ''
  // Results of scrypt checks (old entries) keyed by identity + SHA-256 of the secret, so a reconnect
  // storm costs no scrypt after the first round, and a device retrying a stale secret costs one.
  // Both are dropped whenever the file changes (add/rotate/remove), so a result is never stale.
  const verified = new Set<string>()
  const refused = new Set<string>()
  // Concurrent checks of the same identity + secret (a dispenser retrying mid-storm) share one scrypt.
  const pending = new Map<string, Promise<boolean>>()
  const limit = createFairLimiter(SCRYPT_CONCURRENCY)
  const ephemeral = new Map<number, string>()
  // API tokens that matched their entry in the file as loaded (issue 17: the regex and SHA-256 ran
  // on every HTTP request). At most one per token entry (only a match is kept), dropped with the
  // other results whenever the file changes, so a rotated or removed token is refused at once.
  const tokensOk = new Map<string, { name: string; role: ApiTokenRole }>()

  // Checked at every use (one stat): mtime, inode (rename) and size together catch every CLI write.
  const current = (): Index => {
    let stamp = 'none'
    try {
      const st = statSync(path, { throwIfNoEntry: false })
      if (st) stamp = `${st.mtimeMs}:${st.ino}:${st.size}`
    } catch {
      stamp = 'none'
    }
    if (stamp === loadedStamp) return index
    loadedStamp = stamp
    verified.clear()
    refused.clear()
    tokensOk.clear()
    try {
      index = indexOf(stamp === 'none' ? emptyCredentials() : readCredentials(path))
    } catch (error) {
      log?.error({ err: error, path }, 'credentials file unreadable; keeping the last good one')
    }
    return index
  }

  const lookup = (key: string): SecretHash | undefined =>
    key.startsWith('m') ? index.machines.get(key.slice(1)) : index.nodes.get(key.slice(1))

  const check = async (key: string, secret: string, stored: SecretHash | undefined, options: VerifyOptions = {}): Promise<boolean> => {
    if (!stored) return false
    const kind = kindOf(stored)
    if (kind === 'invalid') return false
    // HMAC costs microseconds: checked at once, nothing queued or cached (1,000 dispensers keep no cache)
    if (kind === 'hmac') return (!options.shouldRun || options.shouldRun()) && matchesHmac(secret, stored as HmacSecretHash)
    const cacheKey = `${key}:${sha256Hex(secret)}`
    if (verified.has(cacheKey)) return true
    if (refused.has(cacheKey)) return false
    let run = pending.get(cacheKey)
    let skipped = false
    if (!run) {
      const task = async () => {
        if (options.shouldRun && !options.shouldRun()) {
          skipped = true
          return false
        }
        return matchesScrypt(secret, stored as ScryptSecretHash)
      }
      run = limit(key, task).finally(() => pending.delete(cacheKey))
      pending.set(cacheKey, run)
    }
    const ok = await run
    if (skipped) return false
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

  return {
    async verifyMachine(id, secret, options) {
      const temp = ephemeral.get(id)
      if (temp !== undefined && timingSafeEqual(Buffer.from(sha256Hex(temp)), Buffer.from(sha256Hex(secret)))) return true
      return check(`m${id}`, secret, current().machines.get(String(id)), options)
    },
    async verifyNode(name, secret, options) {
      const entry = current().nodes.get(name)
      return entry && (await check(`n${name}`, secret, entry, options)) ? entry.role : undefined
    },
    verifyApiToken(token) {
      // The stat comes first: a match remembered from before a change of the file is gone by now.
      const tokens = current().tokens
      const known = tokensOk.get(token)
      if (known) return { ...known }
      const name = tokenName(token)
      const entry = name === undefined ? undefined : tokens.get(name)
      if (!name || !entry || typeof entry.sha256 !== 'string') return undefined
      const same = timingSafeEqual(Buffer.from(sha256Hex(token)), Buffer.from(entry.sha256.padEnd(64).slice(0, 64)))
      if (!same) return undefined
      tokensOk.set(token, { name, role: entry.role })
      return { name, role: entry.role }
    },
    journal: () => current().journal,
    issueEphemeralMachineSecret(id) {
      const secret = newSecret()
      ephemeral.set(id, secret)
      return secret
    },
  }
}
