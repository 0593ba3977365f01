/**
 * createAudit: the audit log (log.ts) with its housekeeping: retention (HUB_AUDIT_RETENTION_DAYS,
 * checked at start and daily) and copying the users.json change journal in (staff changes are
 * made in that file, by the CLI or the hub, with their journal entry in the same atomic write;
 * each journal entry is copied exactly once, marked in `audit-meta` in the same batch).
 */
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { AuditDraft } from '../protocol/audit.js'
import type { UserJournalEntry } from '../staff/index.js'
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
  journal?: () => readonly UserJournalEntry[]
}

export interface Audit {
  log: AuditLog
  /** copies new users.json journal entries, then answers */
  query(filter: AuditFilter): Promise<AuditPage>
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

  const syncJournal = async (): Promise<number> => {
    const fresh: UserJournalEntry[] = []
    for (const e of deps.journal?.() ?? []) {
      if (copied.has(e.id)) continue
      const seen = await meta.get(`j:${e.id}`).catch(() => undefined)
      if (seen === undefined) fresh.push(e)
      else copied.add(e.id)
    }
    if (fresh.length === 0) return 0
    const drafts: AuditDraft[] = fresh.map((e) => ({ at: e.at, actor: e.actor, kind: e.kind, target: e.target, before: e.before, after: e.after }))
    const marks: AuditOp[] = fresh.map((e) => ({ type: 'put', key: `j:${e.id}`, value: 1, sublevel: meta as never }))
    await log.append(drafts, marks)
    for (const e of fresh) copied.add(e.id)
    return fresh.length
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
