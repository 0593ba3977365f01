/**
 * V8's code cache of the hub's bundle (src/boot.ts). Compiling the 2.6 MB bundle and the functions the start runs was ~250 ms of
 * every start (issue 17); with the cache V8 deserializes them instead.
 *
 * A cache file is trusted only when everything about it matches: the bundle's own text (sha256),
 * the Node and V8 versions, the architecture and the command-line flags (V8 compiles differently
 * under other flags), and a sha256 of its payload (a file cut short by a power cut, or bit rot, is
 * never handed to V8). V8 then runs its own checks and may still reject it (`cachedDataRejected`):
 * the bundle is then compiled from source as without a cache, and the cache written again.
 *
 * These checks find a damaged or foreign file, not a forged one: the payload sum is written by
 * whoever writes the file, and V8 runs cached code it accepts. The cache is therefore exactly as
 * trusted as the data dir (mode 0700, the hub's user), which already holds credentials.json. A
 * cache made at install time in a read-only place would not widen what a write to the data dir
 * can do; that is still owed.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { sha256Hex } from './sha256.js'

const MAGIC = 'dispenser-hub v8 code cache 1\n'

/** What a cache must have been made by to be used. */
export interface CacheIdentity {
  /** sha256 (hex) of the bundle's text */
  source: string
  node: string
  v8: string
  arch: string
  /** the process's V8/Node flags (command line and NODE_OPTIONS) */
  flags: string
}

export function cacheIdentity(source: string, runtime: { execArgv: readonly string[]; nodeOptions?: string | undefined } = { execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS }): CacheIdentity {
  return {
    source: sha256Hex(source),
    node: process.version,
    v8: process.versions.v8,
    arch: process.arch,
    flags: JSON.stringify([runtime.execArgv, runtime.nodeOptions ?? '']),
  }
}

/**
 * One file per runtime (Node, V8, arch, flags): a hub started with other flags (the unit's, a
 * benchmark's, none) keeps its own cache instead of replacing the other's at every start.
 */
export function cacheFileName(id: CacheIdentity): string {
  return `hub-${sha256Hex(JSON.stringify([id.node, id.v8, id.arch, id.flags])).slice(0, 16)}.v8cache`
}

/** The file: MAGIC, one JSON line (the identity, the payload's length and sha256), the payload. */
export function encodeCache(id: CacheIdentity, data: Uint8Array): Buffer {
  const header = JSON.stringify({ ...id, bytes: data.length, sum: sha256Hex(data) })
  return Buffer.concat([Buffer.from(`${MAGIC}${header}\n`), data])
}

/** The payload when the file is whole and made for `id`, else undefined (never throws). */
export function decodeCache(file: Buffer, id: CacheIdentity): Buffer | undefined {
  if (file.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) return undefined
  const end = file.indexOf(0x0a, MAGIC.length)
  if (end < 0) return undefined
  let header: Record<string, unknown>
  try {
    header = JSON.parse(file.subarray(MAGIC.length, end).toString('utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (!header || typeof header !== 'object') return undefined
  for (const key of ['source', 'node', 'v8', 'arch', 'flags'] as const) if (header[key] !== id[key]) return undefined
  const data = file.subarray(end + 1)
  if (header.bytes !== data.length || header.sum !== sha256Hex(data)) return undefined
  return data
}

/** The verified payload of the cache for `id` in `dir`, or undefined (none, unreadable, not for this bundle). */
export function readCache(dir: string, id: CacheIdentity): Buffer | undefined {
  try {
    return decodeCache(readFileSync(join(dir, cacheFileName(id))), id)
  } catch {
    return undefined
  }
}

/**
 * Writes the cache atomically (temp file, fsync, rename): a crash leaves the old file or the new
 * one. Folder 0700, file 0600, like everything in the data dir. Leftover temp files of a killed
 * write go.
 */
export function writeCache(dir: string, id: CacheIdentity, data: Uint8Array): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const name = cacheFileName(id)
  for (const entry of readdirSync(dir)) if (entry.startsWith(`${name}.`) && entry.endsWith('.tmp')) rmSync(join(dir, entry), { force: true })
  const tmp = join(dir, `${name}.${process.pid}.tmp`)
  const fd = openSync(tmp, 'w', 0o600)
  try {
    writeSync(fd, encodeCache(id, data))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, join(dir, name))
}

/**
 * Set by src/boot.ts to a function that src/main.ts calls once the hub is up, with its data dir:
 * the cache is made then, so it holds the functions the start ran too, not only the top level.
 * It answers what this start did: `used` the cache, found `none` or found it `rejected` by V8
 * (then one is written in a quiet second, and `written` is told how that went), or `off` (no data
 * dir known before the settings, or the hub's is another).
 */
export const HUB_STARTED = Symbol.for('dispenser-hub.started')
export type CodeCacheStatus = 'used' | 'none' | 'rejected' | 'off'
export type HubStartedHook = (hubDataDir: string, written: (error?: unknown) => void) => CodeCacheStatus
