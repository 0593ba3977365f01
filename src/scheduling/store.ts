/**
 * Durable sessions: one LevelDB sublevel (RULES §8, `db.sublevel('sessions', { valueEncoding: 'json' })`).
 * Every write is a batch with `sync: true`, so a confirmed session survives a power cut (DESIGN §5).
 */
import type { SessionRecord } from '../protocol/messages.js'

/** What is stored per session: the record and the fingerprint of its last submission (idempotency). */
export interface StoredSession {
  record: SessionRecord
  submitted: string | null
}

/** The part of a level sublevel (json values) the store uses. */
export interface SessionDb {
  batch(operations: Array<{ type: 'put'; key: string; value: StoredSession }>, options: { sync: boolean }): Promise<void>
  iterator(): AsyncIterable<[string, unknown]>
}

export interface SessionStore {
  load(): Promise<StoredSession[]>
  /** One atomic, synced batch (group commit of several queued changes). */
  write(entries: readonly StoredSession[]): Promise<void>
}

/** Zero-padded so keys sort by id. */
export function sessionKey(id: number): string {
  return String(id).padStart(16, '0')
}

export function createLevelSessionStore(db: SessionDb): SessionStore {
  return {
    async load() {
      const out: StoredSession[] = []
      for await (const [, value] of db.iterator()) {
        const entry = value as StoredSession
        if (entry && typeof entry === 'object' && entry.record && typeof entry.record.session_id === 'number') out.push(entry)
      }
      return out
    },
    async write(entries) {
      if (entries.length === 0) return
      await db.batch(
        entries.map((value) => ({ type: 'put' as const, key: sessionKey(value.record.session_id), value })),
        { sync: true },
      )
    },
  }
}
