/**
 * The audit log in LevelDB: sublevel `audit` (id -> entry, ids sort by time) and `audit-session`
 * (session id + entry id -> entry id, so a session's history needs no scan). Append-only: the
 * module that makes a change asks `ops(drafts)` for the operations and writes them in the SAME
 * synced batch as the change (abstract-level forwards a sibling sublevel's operations to the
 * root db, so one `batch()` covers both). Only retention (HUB_AUDIT_RETENTION_DAYS) deletes.
 */
import type { AuditDraft, AuditEntry, AuditKind } from '../protocol/audit.js'

/**
 * A LevelDB batch operation on one of the audit sublevels. `sublevel` is opaque (typed never) so
 * these ops fit the batch() of any other sublevel of the same database, whatever its value type.
 */
export type AuditOp = { type: 'put'; key: string; value: unknown; sublevel: never } | { type: 'del'; key: string; sublevel: never }

/** The part of a level sublevel (json values) the log reads and writes. */
export interface AuditSublevel {
  batch(operations: Array<{ type: 'put'; key: string; value: unknown } | { type: 'del'; key: string }>, options: { sync: boolean }): Promise<void>
  iterator(options?: { gte?: string; gt?: string; lt?: string; lte?: string; reverse?: boolean; limit?: number }): AsyncIterable<[string, unknown]>
  keys(options?: { lt?: string; limit?: number; reverse?: boolean }): AsyncIterable<string>
  get(key: string): Promise<unknown>
}

export interface AuditFilter {
  /** epoch s, inclusive */
  from?: number | undefined
  /** epoch s, exclusive */
  to?: number | undefined
  actor?: string | undefined
  session_id?: number | undefined
  machine_id?: number | undefined
  kind?: AuditKind | undefined
  /** page size (default 100, at most 1000) */
  limit?: number | undefined
  /** the `next` of the previous page: entries older than it */
  before?: string | undefined
}

export interface AuditPage {
  entries: AuditEntry[]
  /** pass as `before` for the next (older) page; null when there is none */
  next: string | null
}

export interface AuditLog {
  /** Ids for the drafts and the operations that append them; write them with the change. */
  ops(drafts: readonly AuditDraft[]): AuditOp[]
  /** Appends in a batch of its own (for changes that are not in LevelDB, e.g. users.json journal copies). */
  append(drafts: readonly AuditDraft[], extra?: readonly AuditOp[]): Promise<AuditEntry[]>
  query(filter: AuditFilter): Promise<AuditPage>
  /** Deletes entries older than `cutoffS` (epoch s); returns how many. */
  prune(cutoffS: number): Promise<number>
  start(): Promise<void>
}

const pad = (n: number, width: number) => String(Math.floor(n)).padStart(width, '0')
const idAt = (ms: number) => pad(ms, 15)
const sessionKey = (sessionId: number, id: string) => `${pad(sessionId, 16)}:${id}`

export interface AuditLogDeps {
  entries: AuditSublevel
  bySession: AuditSublevel
  /** epoch ms */
  now: () => number
}

export function createAuditLog({ entries, bySession, now }: AuditLogDeps): AuditLog {
  let lastMs = 0
  let seq = 0

  /** Time-ordered ids that never repeat, even when the clock steps back (issue 15). */
  const nextId = (): string => {
    const ms = Math.max(lastMs, Math.floor(now()))
    seq = ms === lastMs ? seq + 1 : 0
    lastMs = ms
    return `${idAt(ms)}-${pad(seq, 6)}`
  }

  const ops = (drafts: readonly AuditDraft[]): AuditOp[] => {
    const out: AuditOp[] = []
    for (const draft of drafts) {
      const entry: AuditEntry = { id: nextId(), ...draft }
      out.push({ type: 'put', key: entry.id, value: entry, sublevel: entries as never })
      if (entry.session_id !== undefined) out.push({ type: 'put', key: sessionKey(entry.session_id, entry.id), value: entry.id, sublevel: bySession as never })
    }
    return out
  }

  const matches = (e: AuditEntry, f: AuditFilter): boolean =>
    (f.actor === undefined || e.actor === f.actor) &&
    (f.kind === undefined || e.kind === f.kind) &&
    (f.session_id === undefined || e.session_id === f.session_id) &&
    (f.machine_id === undefined || (e.machine_id?.includes(f.machine_id) ?? false)) &&
    (f.from === undefined || e.at >= f.from) &&
    (f.to === undefined || e.at < f.to)

  async function* bySessionIds(sessionId: number, before: string | undefined): AsyncIterable<AuditEntry> {
    const lo = `${pad(sessionId, 16)}:`
    const hi = before === undefined ? `${pad(sessionId, 16)};` : sessionKey(sessionId, before)
    for await (const [, id] of bySession.iterator({ gte: lo, lt: hi, reverse: true })) {
      const entry = (await entries.get(String(id)).catch(() => undefined)) as AuditEntry | undefined
      if (entry) yield entry
    }
  }

  async function* inTime(f: AuditFilter): AsyncIterable<AuditEntry> {
    const range: { gte?: string; lt?: string } = {}
    if (f.from !== undefined) range.gte = idAt(f.from * 1000)
    const to = f.to === undefined ? undefined : idAt(f.to * 1000)
    const lt = [to, f.before].filter((x): x is string => x !== undefined).sort()[0]
    if (lt !== undefined) range.lt = lt
    for await (const [, value] of entries.iterator({ ...range, reverse: true })) yield value as AuditEntry
  }

  return {
    ops,
    async append(drafts, extra = []) {
      const all = [...ops(drafts), ...extra]
      if (all.length === 0) return []
      await entries.batch(all as never, { sync: true })
      return all.filter((o) => o.type === 'put' && (o.sublevel as unknown) === entries).map((o) => (o as { value: AuditEntry }).value)
    },
    async query(filter) {
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000)
      const out: AuditEntry[] = []
      const source = filter.session_id !== undefined ? bySessionIds(filter.session_id, filter.before) : inTime(filter)
      let more = false
      for await (const entry of source) {
        if (!matches(entry, filter)) continue
        if (out.length === limit) {
          more = true
          break
        }
        out.push(entry)
      }
      return { entries: out, next: more ? out[out.length - 1]!.id : null }
    },
    async prune(cutoffS) {
      let removed = 0
      for (;;) {
        const batch: AuditOp[] = []
        for await (const [id, value] of entries.iterator({ lt: idAt(cutoffS * 1000), limit: 1000 })) {
          batch.push({ type: 'del', key: id, sublevel: entries as never })
          const sessionId = (value as AuditEntry).session_id
          if (sessionId !== undefined) batch.push({ type: 'del', key: sessionKey(sessionId, id), sublevel: bySession as never })
          removed++
        }
        if (batch.length === 0) return removed
        await entries.batch(batch as never, { sync: true })
      }
    },
    async start() {
      for await (const id of entries.keys({ reverse: true, limit: 1 })) {
        const [ms, n] = id.split('-')
        lastMs = Number(ms)
        seq = Number(n)
      }
    },
  }
}
