/**
 * Orchestration of the scheduling module: loads the sessions, runs every change through the one
 * writer (writer.ts), and advances session phases when the ticker asks (DESIGN §5).
 */
import type { Logger } from 'pino'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import { err, ok, type Result } from '../lib/result.js'
import type { HubEvents } from '../protocol/events.js'
import { actorLabel } from '../protocol/actor.js'
import { sessionDraft } from '../audit/drafts.js'
import type { AuditLog } from '../audit/log.js'
import { MAX_SESSION_ID, type Session, type SessionRecord } from '../protocol/messages.js'
import { createKeyMemory, keyId, requestFingerprint } from './idempotency.js'
import { nextTransition, phaseAt } from './rules.js'
import { createSessionIndex, type Tx } from './session-index.js'
import { planSubmission, type PlanContext } from './submission.js'
import type { SessionStore } from './store.js'
import type { SchedulingErrorCode, SubmitOptions, SubmitOutcome } from './types.js'
import { createWriter, type ChangeEvent } from './writer.js'
import type { BayHealthFn } from './sellable.js'
import { isArchivable } from './archive.js'
import type { Actor } from '../protocol/actor.js'
import type { CalendarAffected, Calendar } from '../protocol/calendar.js'
import { checkCalendar, compileCalendar, defaultCalendar, type CompiledCalendar } from './calendar.js'
import { affectedBy, calendarDraft, channelOfRecord, defaultChannel, describeAffected } from './calendar-change.js'
import { calendarOp, loadCalendar, type CalendarDb, type StoredCalendar } from './calendar-store.js'

export interface SessionServiceDeps {
  /** the audit log; each change's entry is written in the change's own batch */
  audit?: AuditLog | undefined
  config: Config
  clock: Clock
  events: EventBus<HubEvents>
  store: SessionStore
  log: Logger
  /** told, after each committed change, when that session next needs the lifecycle step (ticker.consider) */
  onDue?: (atS: number) => void
  /** told of each committed change before anyone else hears of it (the grid cache drops its dates) */
  onCommitted?: (event: ChangeEvent) => void
  maxBatch?: number
  /** what the machines module says of each bay (src/hub.ts); default: every bay can dispense */
  health?: BayHealthFn
  /** where the venue calendar is kept (issue 14); without it the calendar lives in memory only */
  calendarDb?: CalendarDb | undefined
  /** told after a calendar change is durable (the grid cache drops every date) */
  onCalendar?: () => void
}

export interface CalendarChangeOptions {
  actor: Actor
  /** accept a change that affects booked sessions */
  confirm?: boolean
  note?: string
}

export type CalendarChange =
  | { ok: true; value: { stored: StoredCalendar; affected: CalendarAffected[] } }
  | { ok: false; code: SchedulingErrorCode; message: string; field?: string; affected?: CalendarAffected[] }

export type Outcome = Result<SubmitOutcome, SchedulingErrorCode>

export function createSessionService(deps: SessionServiceDeps) {
  const { config, clock, events, store, log } = deps
  const index = createSessionIndex()
  const slotS = config.slotMinutes * 60
  const bufferS = config.bufferMinutes * 60
  const known = new Set(config.machineIds)
  const health: BayHealthFn = deps.health ?? (() => undefined)
  // Maintenance blocks keep status `maintenance`; their phase changes are announced once each.
  const announced = new Map<number, 'active' | 'completed'>()

  const publish = (event: ChangeEvent) => {
    deps.onCommitted?.(event)
    // Who did it goes to the audit log, not to the feed, the uplink or internal/admin.
    const { change, session, previous } = event
    events.emit('session.changed', previous ? { change, session, previous } : { change, session })
    const due = dueAt(event.session)
    if (due !== undefined) deps.onDue?.(due)
  }
  const keys = createKeyMemory()
  const nowS = () => clock.now() / 1000
  const audit = deps.audit
  const auditOps = audit && ((batch: readonly ChangeEvent[]) => audit.ops(batch.map((e) => sessionDraft(e, nowS())).filter((d) => d !== undefined)))
  const writer = createWriter({ index, keys, store, log, publish, maxBatch: deps.maxBatch, expiredKeys: () => keys.expired(nowS(), 1000), auditOps })

  /** When the lifecycle step must next look at this session: now if it is due already. */
  const dueAt = (r: SessionRecord): number | undefined => {
    const now = nowS()
    const started = r.start_time <= now
    if (started && (r.status === 'reserved' || (r.status === 'maintenance' && !announced.has(r.session_id)))) return now
    return nextTransition([r], now)
  }

  // The calendar in force (issue 14): HUB_OPENING_HOURS alone until someone saves one.
  let calendarStored: StoredCalendar | null = null
  let calendar: CompiledCalendar = compileCalendar(defaultCalendar(config.openingHours), config.timezone)

  const contextFor = (options: SubmitOptions, tx: Tx): PlanContext => ({
    nowS: nowS(),
    slotS,
    bufferS,
    timeZone: config.timezone,
    known,
    rows: config.layoutRows,
    origin: options.origin,
    isAdmin: options.isAdmin ?? false,
    externalId: options.externalId,
    calendar: tx.calendar ?? calendar,
    channel: options.channel ?? defaultChannel(options.origin, options.isAdmin ?? false),
    health,
  })

  const submitStep = (session: Session, options: SubmitOptions) => (tx: Tx, emit: (e: ChangeEvent) => void): Outcome => {
    const ctx = contextFor(options, tx)
    const keyed = options.idempotency
    const key = keyed && { id: keyId(options.origin, keyed.key), fingerprint: requestFingerprint(session, options.externalId) }
    if (keyed && key) {
      const seen = tx.remembered(key.id, ctx.nowS)
      if (seen && seen.fingerprint !== key.fingerprint) {
        const message = `${keyed.field}: ${keyed.key} was used for another request in the last 24 h; send a new ${keyed.field} for a new request`
        return err('IDEMPOTENCY_KEY_REUSED', message, keyed.field)
      }
      if (seen) return ok({ session: seen.record, change: 'replay', replay: true, created: seen.created })
    }
    const id = session.session_id ?? (options.externalId !== undefined ? tx.idOfExternal(options.externalId) : undefined)
    const existing = id === undefined ? undefined : tx.get(id)
    const plan = planSubmission({ session, existing, newId: tx.freeId(), sessionsOn: (bays) => tx.sessionsOn(bays) }, ctx)
    if (!plan.ok) return plan
    const created = plan.value.kind === 'created'
    if (key) tx.remember({ ...key, at: ctx.nowS, created, record: plan.value.record })
    if (plan.value.kind === 'replay') return ok({ session: plan.value.record, change: 'replay', replay: true, created: false })
    const { kind, record, previous, submitted } = plan.value
    // A create never replaces a session (issue 10); the allocator makes this unreachable, the check keeps it so.
    if (created && tx.get(record.session_id)) throw new Error(`session ${record.session_id} exists; refusing to overwrite it`)
    const actor = options.actor ?? { kind: 'node' as const, name: options.origin }
    // "Booked by" names the person (or token) behind a new booking, not only the owning node.
    if (created) record.booked_by = actorLabel(actor)
    if (created && record.status !== 'maintenance') record.channel = ctx.channel
    tx.put({ record, submitted })
    const said = { actor, ...(options.reason !== undefined && { reason: options.reason }) }
    emit(previous ? { change: kind, session: record, previous, ...said } : { change: kind, session: record, ...said })
    return ok({ session: record, change: kind, replay: false, created })
  }

  /** Replaces the calendar: refused (listing them) when it affects booked sessions, unless confirmed. */
  const calendarStep = (next: Calendar, options: CalendarChangeOptions) => (tx: Tx): CalendarChange => {
    const invalid = checkCalendar(next, known)
    if (invalid) return invalid
    const now = nowS()
    const before = tx.calendar ?? calendar
    const after = compileCalendar(next, config.timezone)
    const affected = affectedBy(tx.openRecords(), before, after, now)
    if (affected.length > 0 && options.confirm !== true) {
      const message = `confirm: ${affected.length} booked session${affected.length === 1 ? '' : 's'} would fall outside the new calendar: ${describeAffected(affected, config.timezone)}; send confirm: true to save it anyway`
      return { ok: false, code: 'CALENDAR_AFFECTS_SESSIONS', message, field: 'confirm', affected }
    }
    const stored: StoredCalendar = { calendar: next, updated_at: now, updated_by: actorLabel(options.actor) }
    if (deps.calendarDb) tx.extraOps.push(calendarOp(deps.calendarDb, stored))
    // The audit entry rides in the same synced batch as the calendar.
    if (audit) tx.extraOps.push(...audit.ops([calendarDraft(calendarStored?.calendar ?? null, next, options.actor, now, affected, options.note)]))
    tx.calendar = after
    tx.afterCommit.push(() => {
      calendar = after
      calendarStored = stored
      deps.onCalendar?.()
    })
    return { ok: true, value: { stored, affected } }
  }

  /** Moves sessions whose phase has changed by `now` (start -> active, end -> completed). */
  const advanceStep = (tx: Tx, emit: (e: ChangeEvent) => void): number | undefined => {
    const now = nowS()
    const open = tx.openRecords()
    for (const record of open) {
      const phase = phaseAt(record, now)
      if (record.status === 'maintenance') {
        announceMaintenance(record, phase, emit)
        continue
      }
      if (phase === record.status || (phase !== 'active' && phase !== 'completed')) continue
      const next: SessionRecord = { ...record, status: phase, updated_at: now }
      tx.put({ record: next, submitted: tx.get(record.session_id)?.submitted ?? null })
      emit({ change: phase === 'active' ? 'activated' : 'completed', session: next, previous: record })
    }
    return nextTransition(tx.openRecords(), now)
  }

  const announceMaintenance = (record: SessionRecord, phase: string, emit: (e: ChangeEvent) => void) => {
    const id = record.session_id
    if (phase === 'active' && announced.get(id) !== 'active') {
      announced.set(id, 'active')
      emit({ change: 'activated', session: record })
    } else if (phase === 'completed' && announced.get(id) === 'active') {
      announced.set(id, 'completed')
      emit({ change: 'completed', session: record })
    }
  }

  return {
    async load(): Promise<void> {
      if (deps.calendarDb) {
        const { stored, problem } = await loadCalendar(deps.calendarDb)
        if (problem) log.error({ problem }, 'stored calendar does not fit the schema; using HUB_OPENING_HOURS until it is saved again')
        if (stored) {
          calendarStored = stored
          calendar = compileCalendar(stored.calendar, config.timezone)
        }
      }
      const loaded = await store.load()
      for (const entry of loaded.sessions) {
        if (entry.record.session_id > MAX_SESSION_ID) log.warn({ sessionId: entry.record.session_id }, 'session id above the bound (stored before ids were bounded)')
        index.put(entry)
      }
      index.raiseMaxId(loaded.archivedMaxId)
      for (const key of loaded.keys.sort((a, b) => a.at - b.at)) keys.put(key)
      log.info({ sessions: [...index.all()].length, maxId: index.maxId(), idempotencyKeys: keys.size() }, 'sessions loaded')
    },
    /** Live sessions that ended for good before `cutoffS`, oldest end first (archive.ts). */
    archivable(cutoffS: number): number[] {
      const out: SessionRecord[] = []
      for (const { record } of index.all()) if (isArchivable(record, cutoffS)) out.push(record)
      return out.sort((a, b) => a.end_time - b.end_time || a.session_id - b.session_id).map((r) => r.session_id)
    },
    /** Moves these sessions (if still archivable) to the archive in one synced batch, through the writer. */
    archive: (ids: readonly number[], cutoffS: number): Promise<number> =>
      writer.run((tx) => {
        let moved = 0
        for (const id of ids) {
          const entry = tx.get(id)
          if (!entry || !isArchivable(entry.record, cutoffS)) continue
          tx.archive(entry)
          announced.delete(id)
          moved++
        }
        return moved
      }),
    submit: (session: Session, options: SubmitOptions): Promise<Outcome> => writer.run(submitStep(session, options)),
    calendar: () => calendar,
    calendarStored: () => calendarStored,
    setCalendar: (next: Calendar, options: CalendarChangeOptions): Promise<CalendarChange> => writer.run(calendarStep(next, options)),
    channelOf: channelOfRecord,
    /** Runs the lifecycle step; resolves with the next transition (epoch s), if any. */
    advance: (): Promise<number | undefined> => writer.run(advanceStep),
    get: (id: number) => index.get(id)?.record,
    idOfExternal: (externalId: string) => index.idOfExternal(externalId),
    records: () => [...index.all()].map((e) => e.record),
    sessionsOn: (bays: readonly number[]) => index.sessionsOn(bays),
    idle: () => writer.idle(),
    stats: () => writer.stats(),
  }
}

export type SessionService = ReturnType<typeof createSessionService>
