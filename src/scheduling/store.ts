/**
 * Durable sessions: one LevelDB sublevel (RULES §8, `db.sublevel('sessions', { valueEncoding: 'json' })`).
 * Every write is a batch with `sync: true`, so a confirmed session survives a power cut (DESIGN §5).
 * The same sublevel keeps the remembered idempotency keys (keys under `~key:`), so a session and
 * the key that created it are written in one atomic batch: a retry after a crash finds both or neither.
 *
 * Archive (issue 13): sessions that ended long ago move to a sibling sublevel `sessions-archive`
 * in the same kind of synced batch (delete from the live sublevel + put in the archive), so a
 * session is always in exactly one of them. Start-up reads only the live sublevel (plus one key of
 * the archive for the id allocator); reports read the archive in time order.
 *   `t:<start, 12 digits>:<id, 16 digits>` -> StoredSession   (time order, for reports)
 *   `i:<id, 16 digits>` -> the `t:` key                        (lookup by id)
 */
import type { SessionRecord } from '../protocol/messages.js'
import type { RememberedKey } from './idempotency.js'
import type { AuditOp } from '../audit/log.js'
import { encodeForRoot, type EncodingSublevel, type RootOp } from '../lib/root-batch.js'

/** What is stored per session: the record and the fingerprint of its last submission (idempotency). */
export interface StoredSession {
  record: SessionRecord
  submitted: string | null
}

/** An operation on the archive sublevel inside the live sublevel's batch (abstract-level forwards it). */
type ArchiveOp = { type: 'put'; key: string; value: unknown; sublevel: never }
type Operation = { type: 'put'; key: string; value: StoredSession | { remembered: RememberedKey } } | { type: 'del'; key: string } | AuditOp | ArchiveOp

/** The part of a level sublevel (json values) the store uses. */
export interface SessionDb {
  batch(operations: Operation[], options: { sync: boolean }): Promise<void>
  iterator(): ArchiveIterator
  /** the root database (abstract-level sublevels have it): the batch goes there pre-encoded */
  readonly db?: RootDb
}

interface RootDb {
  batch(operations: RootOp[], options: { sync: boolean; keyEncoding: 'utf8'; valueEncoding: 'utf8' }): Promise<void>
  iterator(options: { gte: string; lt: string; keyEncoding: 'utf8'; valueEncoding: 'utf8' }): { nextv(size: number): Promise<Array<[string, string]>>; close(): Promise<void> }
}

/** A read of the live sublevel: entries in key order, values still JSON text when `text`. */
interface LiveReader {
  nextv(size: number): Promise<Array<[string, unknown]>>
  close(): Promise<void>
  /** values are JSON text, parsed by the store; else decoded already (keys relative to the sublevel either way) */
  readonly text: boolean
  /** characters of each key before the sublevel's own key */
  readonly keyOffset: number
}

/**
 * issue 17, start-up: the live sessions read from the root database as text, each value parsed
 * here, instead of through the sublevel, which decodes and re-wraps every entry on its way
 * (a month of live sessions: ~200 ms of the start on the 2-core machine, against ~80 ms this
 * way). The same entries in the same order: a sublevel's keys are its prefix + key. Undefined
 * when the sublevel is not a utf8/json one of a root that can be read so (then it reads itself).
 */
function rootReader(db: SessionDb): (() => LiveReader) | undefined {
  const own = db as unknown as Partial<EncodingSublevel>
  const root = db.db
  if (!root || typeof root.iterator !== 'function' || typeof own.prefixKey !== 'function' || !own.keyEncoding || !own.valueEncoding) return undefined
  const keys = own.keyEncoding()
  const values = own.valueEncoding() as { format: string; name?: string }
  if (keys.format !== 'utf8' || values.format !== 'utf8' || values.name !== 'json') return undefined
  const prefix = own.prefixKey('', 'utf8')
  // the first key past the prefix: its last character (the separator) plus one
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
  return () => {
    const it = root.iterator({ gte: prefix, lt: end, keyEncoding: 'utf8', valueEncoding: 'utf8' })
    return { nextv: (size) => it.nextv(size), close: () => it.close(), text: true, keyOffset: prefix.length }
  }
}

/** Read in batches (`nextv`): a year of history (or a month of live sessions) costs far fewer round trips into LevelDB than entry by entry. */
export interface ArchiveIterator {
  nextv(size: number): Promise<Array<[string, unknown]>>
  close(): Promise<void>
}

/** The part of the archive sublevel (json values) the store uses. */
export interface ArchiveDb {
  iterator(options: { gte?: string; lt?: string }): ArchiveIterator
  keys(options: { gte: string; lt: string; reverse: boolean; limit: number }): AsyncIterable<string>
  get(key: string): Promise<unknown>
}

export interface Loaded {
  sessions: StoredSession[]
  keys: RememberedKey[]
  /** the highest session id in the archive (0 when none): the allocator never reuses it */
  archivedMaxId: number
}

export interface StoreWrite {
  sessions: readonly StoredSession[]
  remember: readonly RememberedKey[]
  /** ids (RememberedKey.id) of keys past their retention */
  forget: readonly string[]
  /** audit entries recording these changes (another sublevel, same atomic batch) */
  audit?: readonly AuditOp[]
  /** ended sessions to move from the live sublevel into the archive (same atomic batch) */
  archive?: readonly StoredSession[]
}

export interface SessionStore {
  load(): Promise<Loaded>
  /** One atomic, synced batch (group commit of several queued changes). */
  write(changes: StoreWrite): Promise<void>
  /** Archived sessions whose start lies in [fromS, toS), in start order (then id). */
  archived(fromS: number, toS: number): AsyncIterable<StoredSession>
  /** One archived session by id. */
  getArchived(id: number): Promise<StoredSession | undefined>
  /** false when no archive sublevel was given (nothing is ever archived) */
  readonly canArchive: boolean
}

/** Zero-padded so keys sort by id. */
export function sessionKey(id: number): string {
  return String(id).padStart(16, '0')
}

const KEY_PREFIX = '~key:'
/** entries per read at start-up: ~260 KB of a month's live sessions */
const LOAD_BATCH = 1000
const keyOf = (id: string) => KEY_PREFIX + id
/** Start times are epoch s below 2^32 (protocol bound): 12 digits sort them. */
const timePart = (startS: number) => String(Math.max(0, Math.floor(startS))).padStart(12, '0')
export const archiveTimeKey = (r: SessionRecord) => `t:${timePart(r.start_time)}:${sessionKey(r.session_id)}`
export const archiveIdKey = (id: number) => `i:${sessionKey(id)}`

const isStored = (v: unknown): v is StoredSession => {
  const entry = v as StoredSession | null
  return !!entry && typeof entry === 'object' && !!entry.record && typeof entry.record.session_id === 'number'
}

/**
 * One copy of each repeated text among loaded sessions (who booked, from which node, the status,
 * the currency): JSON.parse makes a new string per record, ~1.5 MB of a month of live sessions at
 * 80 bays (issue 17: idle footprint). The values are equal strings; nothing else changes.
 */
function internTexts(record: SessionRecord, seen: Map<string, string>): void {
  const one = (text: string) => {
    const known = seen.get(text)
    if (known !== undefined) return known
    seen.set(text, text)
    return text
  }
  const r = record as { -readonly [K in keyof SessionRecord]: SessionRecord[K] }
  r.status = one(r.status) as SessionRecord['status']
  r.origin_node = one(r.origin_node)
  if (typeof r.booked_by === 'string') r.booked_by = one(r.booked_by)
  if (typeof r.price?.currency === 'string') r.price.currency = one(r.price.currency)
}

export function createLevelSessionStore(db: SessionDb, archive?: ArchiveDb): SessionStore {
  return {
    canArchive: archive !== undefined,
    async load() {
      const out: Loaded = { sessions: [], keys: [], archivedMaxId: 0 }
      const it: LiveReader = rootReader(db)?.() ?? Object.assign(db.iterator(), { text: false, keyOffset: 0 })
      const texts = new Map<string, string>()
      // In batches (`nextv`): entry by entry, a month of live sessions (~34,000 at 80 bays) took
      // twice as long to read at every start (issue 17). The next batch is asked for before this
      // one is parsed, so LevelDB reads it in its thread meanwhile (the main thread waited for each).
      let pending: Promise<Array<[string, unknown]>> | undefined = it.nextv(LOAD_BATCH)
      try {
        for (;;) {
          const entries = await pending
          pending = undefined
          if (entries.length === 0) break
          pending = it.nextv(LOAD_BATCH)
          for (const [key, raw] of entries) {
            const value = it.text ? JSON.parse(raw as string) : raw
            if (key.startsWith(KEY_PREFIX, it.keyOffset)) {
              const remembered = (value as { remembered?: RememberedKey } | null)?.remembered
              if (remembered && typeof remembered.id === 'string' && typeof remembered.at === 'number') out.keys.push(remembered)
              continue
            }
            if (isStored(value)) {
              internTexts(value.record, texts)
              out.sessions.push(value)
            }
          }
        }
      } finally {
        // a read still in flight (a value failed to parse) ends before the iterator closes
        await pending?.catch(() => undefined)
        await it.close()
      }
      // One key of the archive, not the archive: ids stay unique after the newest sessions are archived.
      if (archive) for await (const key of archive.keys({ gte: 'i:', lt: 'i;', reverse: true, limit: 1 })) out.archivedMaxId = Number(key.slice(2)) || 0
      return out
    },
    async write({ sessions, remember, forget, audit = [], archive: moved = [] }) {
      if (moved.length > 0 && !archive) throw new Error('no archive sublevel: cannot archive sessions')
      const ops: Operation[] = [
        ...sessions.map((value) => ({ type: 'put' as const, key: sessionKey(value.record.session_id), value })),
        ...remember.map((value) => ({ type: 'put' as const, key: keyOf(value.id), value: { remembered: value } })),
        ...forget.map((id) => ({ type: 'del' as const, key: keyOf(id) })),
        ...audit,
      ]
      for (const entry of moved) {
        const timeKey = archiveTimeKey(entry.record)
        ops.push({ type: 'put', key: timeKey, value: entry, sublevel: archive as never })
        ops.push({ type: 'put', key: archiveIdKey(entry.record.session_id), value: timeKey, sublevel: archive as never })
        ops.push({ type: 'del', key: sessionKey(entry.record.session_id) })
      }
      if (ops.length === 0) return
      const encoded = db.db && encodeForRoot(ops, db as unknown as EncodingSublevel)
      if (encoded) await db.db!.batch(encoded, { sync: true, keyEncoding: 'utf8', valueEncoding: 'utf8' })
      else await db.batch(ops, { sync: true })
    },
    async *archived(fromS, toS) {
      if (!archive || !(toS > fromS)) return
      const it = archive.iterator({ gte: `t:${timePart(fromS)}:`, lt: `t:${timePart(Math.ceil(toS))}:` })
      try {
        for (;;) {
          const entries = await it.nextv(1000)
          if (entries.length === 0) return
          for (const [, value] of entries) if (isStored(value) && value.record.start_time >= fromS && value.record.start_time < toS) yield value
        }
      } finally {
        await it.close()
      }
    },
    async getArchived(id) {
      if (!archive) return undefined
      const timeKey = await archive.get(archiveIdKey(id))
      if (typeof timeKey !== 'string') return undefined
      const value = await archive.get(timeKey)
      return isStored(value) ? value : undefined
    },
  }
}
