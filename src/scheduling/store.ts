/**
 * Durable sessions: one LevelDB sublevel (RULES §8, `db.sublevel('sessions', { valueEncoding: 'json' })`).
 * Every write is a batch with `sync: true`, so a confirmed session survives a power cut (DESIGN §5).
 * The same sublevel keeps the remembered idempotency keys (keys under `~key:`), so a session and
 * the key that created it are written in one atomic batch: a retry after a crash finds both or neither.
 */
import type { SessionRecord } from '../protocol/messages.js'
import type { RememberedKey } from './idempotency.js'
import type { AuditOp } from '../audit/log.js'

/** What is stored per session: the record and the fingerprint of its last submission (idempotency). */
export interface StoredSession {
  record: SessionRecord
  submitted: string | null
}

type Operation = { type: 'put'; key: string; value: StoredSession | { remembered: RememberedKey } } | { type: 'del'; key: string } | AuditOp

/** The part of a level sublevel (json values) the store uses. */
export interface SessionDb {
  batch(operations: Operation[], options: { sync: boolean }): Promise<void>
  iterator(): AsyncIterable<[string, unknown]>
}

export interface Loaded {
  sessions: StoredSession[]
  keys: RememberedKey[]
}

export interface StoreWrite {
  sessions: readonly StoredSession[]
  remember: readonly RememberedKey[]
  /** ids (RememberedKey.id) of keys past their retention */
  forget: readonly string[]
  /** audit entries recording these changes (another sublevel, same atomic batch) */
  audit?: readonly AuditOp[]
}

export interface SessionStore {
  load(): Promise<Loaded>
  /** One atomic, synced batch (group commit of several queued changes). */
  write(changes: StoreWrite): Promise<void>
}

/** Zero-padded so keys sort by id. */
export function sessionKey(id: number): string {
  return String(id).padStart(16, '0')
}

const KEY_PREFIX = '~key:'
const keyOf = (id: string) => KEY_PREFIX + id

export function createLevelSessionStore(db: SessionDb): SessionStore {
  return {
    async load() {
      const out: Loaded = { sessions: [], keys: [] }
      for await (const [key, value] of db.iterator()) {
        if (key.startsWith(KEY_PREFIX)) {
          const remembered = (value as { remembered?: RememberedKey } | null)?.remembered
          if (remembered && typeof remembered.id === 'string' && typeof remembered.at === 'number') out.keys.push(remembered)
          continue
        }
        const entry = value as StoredSession
        if (entry && typeof entry === 'object' && entry.record && typeof entry.record.session_id === 'number') out.sessions.push(entry)
      }
      return out
    },
    async write({ sessions, remember, forget, audit = [] }) {
      const ops: Operation[] = [
        ...sessions.map((value) => ({ type: 'put' as const, key: sessionKey(value.record.session_id), value })),
        ...remember.map((value) => ({ type: 'put' as const, key: keyOf(value.id), value: { remembered: value } })),
        ...forget.map((id) => ({ type: 'del' as const, key: keyOf(id) })),
        ...audit,
      ]
      if (ops.length === 0) return
      await db.batch(ops, { sync: true })
    },
  }
}
