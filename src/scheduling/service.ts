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
import { actorLabel, SYSTEM } from '../protocol/actor.js'
import { sessionDraft } from '../audit/drafts.js'
import type { AuditLog } from '../audit/log.js'
import { MAX_SESSION_ID, type Session, type SessionRecord } from '../protocol/messages.js'
import { createKeyMemory, keyId, requestFingerprint } from './idempotency.js'
import { describeConflict, findConflict, nextTransition, phaseAt } from './rules.js'
import { planCheckIn, planPayment, type PaymentInput, type PricingFn } from './holds.js'
import { createSessionIndex, type Tx } from './session-index.js'
import { planSubmission, type PlanContext } from './submission.js'
import type { SessionStore } from './store.js'
import type { PaymentOutcome, SchedulingErrorCode, SubmitOptions, SubmitOutcome } from './types.js'
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
  /** issue 12: the price table's quote (src/payments, wired in src/hub.ts); default: nothing is charged */
  pricing?: PricingFn
  /** issue 17: bays whose phase changes now, told before the lifecycle step and its durable write (index.ts) */
  /** resolves (never rejects) when the bays' controls are on their sockets: the step's batch waits for it (writer.ts RunOptions) */
  onTransition?: (machineIds: readonly number[]) => void | Promise<void>
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

  const actorOf = (options: SubmitOptions) => options.actor ?? { kind: 'node' as const, name: options.origin }
  const contextFor = (options: SubmitOptions, tx: Tx): PlanContext => ({
    pricing: deps.pricing,
    holdS: config.holdMinutes * 60,
    noShowS: config.noShowPolicy === 'release' ? config.noShowMinutes * 60 : null,
    by: actorLabel(actorOf(options)),
    currency: config.currency,
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
    const plan = planSubmission({ session, existing, newId: tx.freeId(), sessionsOn: (bays) => tx.sessionsOn(bays), paymentOwner: (p) => tx.idOfPayment(p) }, ctx)
    if (!plan.ok) return plan
    const created = plan.value.kind === 'created'
    if (key) tx.remember({ ...key, at: ctx.nowS, created, record: plan.value.record })
    if (plan.value.kind === 'replay') return ok({ session: plan.value.record, change: 'replay', replay: true, created: false })
    const { kind, record, previous, submitted } = plan.value
    // A create never replaces a session (issue 10); the allocator makes this unreachable, the check keeps it so.
    if (created && tx.get(record.session_id)) throw new Error(`session ${record.session_id} exists; refusing to overwrite it`)
    const actor = actorOf(options)
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
  const advanceStep = (now: number) => (tx: Tx, emit: (e: ChangeEvent) => void): number | undefined => {
    const open = tx.openRecords()
    for (const record of open) {
      const phase = phaseAt(record, now)
      if (record.status === 'maintenance') {
        announceMaintenance(record, phase, emit)
        continue
      }
      if (phase === 'cancelled') {
        // issue 12: an unpaid hold ran out, or nobody checked in for a reservation: the bays are free again.
        const released = record.status === 'held' ? 'hold_expired' : 'no_show'
        const next: SessionRecord = { ...record, status: 'cancelled', released, updated_at: now }
        if (next.payment_request?.status === 'pending') next.payment_request = { ...next.payment_request, status: 'failed', message: 'hold expired' }
        tx.put({ record: next, submitted: tx.get(record.session_id)?.submitted ?? null })
        emit({ change: released === 'hold_expired' ? 'expired' : 'released', session: next, previous: record, actor: SYSTEM })
        continue
      }
      if (phase === record.status || (phase !== 'active' && phase !== 'completed')) continue
      const next: SessionRecord = { ...record, status: phase, updated_at: now }
      tx.put({ record: next, submitted: tx.get(record.session_id)?.submitted ?? null })
      emit({ change: phase === 'active' ? 'activated' : 'completed', session: next, previous: record })
    }
    return nextTransition(tx.openRecords(), now)
  }

  /** The bays of the sessions the lifecycle step will change at `now` (the same rules, read only). */
  const dueBays = (now: number): number[] => {
    const bays = new Set<number>()
    for (const record of index.openRecords()) {
      const phase = phaseAt(record, now)
      const seen = announced.get(record.session_id)
      const due =
        record.status === 'maintenance'
          ? (phase === 'active' && seen !== 'active') || (phase === 'completed' && seen === 'active')
          : phase !== record.status && (phase === 'active' || phase === 'completed' || phase === 'cancelled')
      if (due) for (const id of record.machine_id) bays.add(id)
    }
    return [...bays]
  }

  /**
   * issue 17: the bays a start or an end changes are driven first, then the step is written.
   * Their controls leave before the fsync and before the batch is even encoded: what a bay must
   * do is derived from the clock and the schedule (desiredStateFor), not from the stored status,
   * so a restart before the write sends the same. The step's batch is built once the hook's
   * controls are on their sockets (its promise; at most writer.ts DELIVERIES_WAIT_MS), so no bay's
   * control waits behind planning, encoding and syncing 1,000 sessions (a hook that returns
   * nothing: one timer turn, the broker's first deliveries being immediates).
   */
  const advance = (): Promise<number | undefined> => {
    // One instant for the bays driven and the step: a timer that fires a moment before the second
    // (libuv's cached loop time) must not find nothing due here and everything due in the step,
    // which would then move the sessions with no control sent ahead of the write.
    const now = nowS()
    const bays = deps.onTransition ? dueBays(now) : []
    if (bays.length === 0) return writer.run(advanceStep(now))
    let sent: void | Promise<void> = undefined
    try {
      sent = deps.onTransition?.(bays)
    } catch (error) {
      // The events after the write reconcile these bays again.
      log.error({ err: error }, 'transition hook failed')
    }
    return writer.run(advanceStep(now), { afterDeliveries: sent instanceof Promise ? sent : true })
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

  const submittedOf = (tx: Tx, id: number) => tx.get(id)?.submitted ?? null

  const payStep = (sessionId: number, input: PaymentInput, options: SubmitOptions) => (tx: Tx, emit: (e: ChangeEvent) => void): Result<PaymentOutcome, SchedulingErrorCode> => {
    const actor = actorOf(options)
    const view = { get: (id: number) => tx.get(id)?.record, idOfPayment: (p: string) => tx.idOfPayment(p) }
    const current = view.get(sessionId)
    if (current && !(options.isAdmin ?? false) && current.origin_node !== options.origin) {
      return err('SESSION_FORBIDDEN', `session_id: session ${sessionId} belongs to ${current.origin_node}`, 'session_id')
    }
    const plan = planPayment(view, sessionId, input, { nowS: nowS(), timeZone: config.timezone, by: actorLabel(actor) })
    if (!plan.ok) return plan
    if (plan.value.kind === 'replay') return ok({ session: plan.value.record, replay: true, refund: false })
    const { record, previous, also, refund } = plan.value
    for (const other of also) {
      tx.put({ record: other.record, submitted: submittedOf(tx, other.record.session_id) })
      emit({ change: 'cancelled', session: other.record, previous: other.previous })
    }
    tx.put({ record, submitted: submittedOf(tx, record.session_id) })
    emit({ change: 'paid', session: record, previous, actor, ...(refund && { reason: 'paid after the hold expired: refund requested' }) })
    return ok({ session: record, replay: false, refund })
  }

  const requestStep = (sessionId: number, request: SessionRecord['payment_request'] | null) => (tx: Tx, emit: (e: ChangeEvent) => void): Result<SessionRecord, SchedulingErrorCode> => {
    const current = tx.get(sessionId)?.record
    if (!current) return err('SESSION_NOT_FOUND', `session_id: no session ${sessionId}`, 'session_id')
    const next: SessionRecord = { ...current, updated_at: nowS() }
    if (request) next.payment_request = request
    else delete next.payment_request
    tx.put({ record: next, submitted: submittedOf(tx, sessionId) })
    // Not a booking change anyone audits; the owner and the admin page hear of it (the kiosk shows a decline).
    emit({ change: 'updated', session: next, previous: current })
    return ok(next)
  }

  const checkInStep = (sessionId: number, options: SubmitOptions) => (tx: Tx, emit: (e: ChangeEvent) => void): Result<SessionRecord, SchedulingErrorCode> => {
    const current = tx.get(sessionId)?.record
    if (current && !(options.isAdmin ?? false) && current.origin_node !== options.origin && options.channel !== 'kiosk') {
      return err('SESSION_FORBIDDEN', `session_id: session ${sessionId} belongs to ${current.origin_node}`, 'session_id')
    }
    const plan = planCheckIn(current, sessionId, nowS())
    if (!plan.ok) return plan
    if (plan.value === null) return ok(current!)
    tx.put({ record: plan.value, submitted: submittedOf(tx, sessionId) })
    emit({ change: 'checked_in', session: plan.value, previous: current!, actor: actorOf(options) })
    return ok(plan.value)
  }

  const extendStep = (sessionId: number, durationS: number, options: SubmitOptions) => (tx: Tx, emit: (e: ChangeEvent) => void): Outcome => {
    const now = nowS()
    const parent = tx.get(sessionId)?.record
    if (!parent) return err('SESSION_NOT_FOUND', `session_id: no session ${sessionId}`, 'session_id')
    if (!(options.isAdmin ?? false) && parent.origin_node !== options.origin) {
      return err('SESSION_FORBIDDEN', `session_id: session ${sessionId} belongs to ${parent.origin_node}`, 'session_id')
    }
    const phase = phaseAt(parent, now)
    if (parent.status === 'maintenance' || (phase !== 'active' && phase !== 'reserved')) {
      return err('SESSION_ENDED', `session_id: session ${sessionId} is ${phase}; only a running or upcoming session can be extended`, 'session_id')
    }
    const candidate = { session_id: parent.session_id, machine_id: parent.machine_id, start_time: parent.end_time, end_time: parent.end_time + durationS }
    // Extend pressed twice (a lost reply): the hold already waiting for this extension answers again.
    const waiting = tx.sessionsOn(parent.machine_id).find((s) => s.extends === sessionId && s.status === 'held' && phaseAt(s, now) === 'held')
    if (waiting && waiting.start_time === candidate.start_time && waiting.end_time === candidate.end_time) {
      return ok({ session: waiting, change: 'replay', replay: true, created: true })
    }
    const conflict = findConflict(tx.sessionsOn(parent.machine_id), candidate, bufferS)
    if (conflict) return err('SESSION_CONFLICT', describeConflict(conflict, config.timezone), 'duration')
    const quote = deps.pricing?.(candidate) ?? null
    const actor = actorOf(options)
    if (options.channel !== 'kiosk' || !quote || quote.amount === 0) {
      // Nothing to pay first: the session simply runs longer (staff settle any difference at the counter).
      const record: SessionRecord = { ...parent, end_time: candidate.end_time, duration: parent.duration + durationS, updated_at: now }
      if (quote && parent.price) record.price = { amount: parent.price.amount + quote.amount, currency: quote.currency }
      tx.put({ record, submitted: submittedOf(tx, sessionId) })
      emit({ change: 'updated', session: record, previous: parent, actor })
      return ok({ session: record, change: 'updated', replay: false, created: false })
    }
    const id = tx.freeId()
    if (id === undefined) return err('SESSION_INVALID', 'session_id: the hub has no free session id left', 'session_id')
    const hold: SessionRecord = {
      session_id: id,
      machine_id: parent.machine_id,
      status: 'held',
      start_time: candidate.start_time,
      end_time: candidate.end_time,
      duration: durationS,
      origin_node: parent.origin_node,
      created_at: now,
      updated_at: now,
      booked_by: actorLabel(actor),
      price: quote,
      hold_until: Math.min(now + config.holdMinutes * 60, candidate.end_time),
      extends: sessionId,
    }
    tx.put({ record: hold, submitted: null })
    emit({ change: 'created', session: hold, actor })
    return ok({ session: hold, change: 'created', replay: false, created: true })
  }

  return {
    pay: (sessionId: number, input: PaymentInput, options: SubmitOptions) => writer.run(payStep(sessionId, input, options)),
    setPaymentRequest: (sessionId: number, request: SessionRecord['payment_request'] | null) => writer.run(requestStep(sessionId, request)),
    checkIn: (sessionId: number, options: SubmitOptions) => writer.run(checkInStep(sessionId, options)),
    extend: (sessionId: number, durationS: number, options: SubmitOptions) => writer.run(extendStep(sessionId, durationS, options)),
    idOfPayment: (paymentId: string) => index.idOfPayment(paymentId),
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
      log.info({ sessions: index.size(), maxId: index.maxId(), idempotencyKeys: keys.size() }, 'sessions loaded')
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
    advance,
    get: (id: number) => index.get(id)?.record,
    idOfExternal: (externalId: string) => index.idOfExternal(externalId),
    records: () => [...index.all()].map((e) => e.record),
    sessionsOn: (bays: readonly number[]) => index.sessionsOn(bays),
    openOn: (bay: number) => index.openOn(bay),
    idle: () => writer.idle(),
    stats: () => writer.stats(),
  }
}

export type SessionService = ReturnType<typeof createSessionService>
