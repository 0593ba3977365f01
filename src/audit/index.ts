/**
 * createAudit: the audit log (log.ts) with its housekeeping: retention (HUB_AUDIT_RETENTION_DAYS,
 * checked at start and daily) and copying the change journals of users.json (staff changes) and
 * credentials.json (API tokens, node and dispenser logins) in. Those changes are made in the
 * files, by the CLI or the hub, with their journal entry in the same atomic write; each journal
 * entry is copied exactly once, marked in `audit-meta` in the same batch as its copy.
 */
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { AuditDraft } from '../protocol/audit.js'
import type { AuditKind } from '../protocol/audit.js'
import { createAuditLog, type AuditFilter, type AuditLog, type AuditOp, type AuditPage, type AuditSublevel } from './log.js'

export type { AuditLog, AuditFilter, AuditPage, AuditOp } from './log.js'

export interface AuditDb {
  sublevel(name: string, options: { valueEncoding: 'json' }): unknown
}

export interface AuditDeps {
  db: AuditDb
  clock: Clock
  log: Logger
  retentionDays: number
  /** the users.json journal (staff changes) */
  journal?: () => readonly JournalEntry[]
  /** the credentials.json journal (API tokens, node and dispenser logins) */
  credentialJournal?: () => readonly JournalEntry[]
}

/** An entry of a file's change journal (users.json, credentials.json): ids unique per file. */
export interface JournalEntry {
  id: string
  at: number
  actor: string
  kind: AuditKind
  target: string
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
}

export interface Audit {
  log: AuditLog
  /** copies new journal entries (users.json, credentials.json), then answers */
  query(filter: AuditFilter): Promise<AuditPage>
  /** appends entries in a batch of their own (a change that is not in LevelDB, e.g. the clock) */
  record(drafts: readonly AuditDraft[]): Promise<void>
  syncJournal(): Promise<number>
  start(): Promise<void>
  stop(): void
}

const DAY_MS = 86_400_000

export function createAudit(deps: AuditDeps): Audit {
  const sub = (name: string) => deps.db.sublevel(name, { valueEncoding: 'json' }) as AuditSublevel
  const entries = sub('audit')
  const meta = sub('audit-meta')
  const log = createAuditLog({ entries, bySession: sub('audit-session'), now: () => deps.clock.now() })
  const copied = new Set<string>()
  let cancel: (() => void) | undefined

  // Mark prefix per journal: ids are unique within one file only.
  const journals: Array<[string, () => readonly JournalEntry[]]> = [
    ['j:', deps.journal ?? (() => [])],
    ['c:', deps.credentialJournal ?? (() => [])],
  ]

  // One copy at a time: two concurrent queries must not both copy the same entry.
  let copying: Promise<number> = Promise.resolve(0)
  const copyJournals = async (): Promise<number> => {
    const fresh: Array<{ mark: string; e: JournalEntry }> = []
    for (const [prefix, read] of journals) {
      for (const e of read()) {
        const mark = prefix + e.id
        if (copied.has(mark)) continue
        const seen = await meta.get(mark).catch(() => undefined)
        if (seen === undefined) fresh.push({ mark, e })
        else copied.add(mark)
      }
    }
    if (fresh.length === 0) return 0
    const drafts: AuditDraft[] = fresh.map(({ e }) => ({ at: e.at, actor: e.actor, kind: e.kind, target: e.target, before: e.before, after: e.after }))
    const marks: AuditOp[] = fresh.map(({ mark }) => ({ type: 'put', key: mark, value: 1, sublevel: meta as never }))
    await log.append(drafts, marks)
    for (const { mark } of fresh) copied.add(mark)
    return fresh.length
  }
  const syncJournal = (): Promise<number> => {
    const run = copying.catch(() => 0).then(copyJournals)
    copying = run
    return run
  }

  const prune = async () => {
    try {
      const removed = await log.prune(deps.clock.now() / 1000 - deps.retentionDays * 86_400)
      if (removed > 0) deps.log.info({ removed, retentionDays: deps.retentionDays }, 'audit entries past retention deleted')
    } catch (error) {
      deps.log.error({ err: error }, 'audit retention failed')
    }
    cancel = deps.clock.setTimeout(() => void prune(), DAY_MS)
  }

  return {
    log,
    async query(filter) {
      await syncJournal().catch((error: unknown) => deps.log.error({ err: error }, 'users journal copy failed'))
      return log.query(filter)
    },
    async record(drafts) {
      await log.append(drafts)
    },
    syncJournal,
    async start() {
      await log.start()
      await syncJournal()
      await prune()
    },
    stop() {
      cancel?.()
    },
  }
}
