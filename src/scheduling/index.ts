/**
 * createScheduling(deps): the scheduling module's public API (types.ts). The hub wires it
 * (STYLE §2.3); see README.md in this folder for the events and the conflict rule.
 */
import type { Logger } from 'pino'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import { err, ok } from '../lib/result.js'
import type { HubEvents } from '../protocol/events.js'
import type { AuditLog } from '../audit/log.js'
import type { Schedule, ScheduleFormat, SessionRecord } from '../protocol/messages.js'
import { decoderFor } from '../protocol/codec.js'
import { AvailabilityQuery as AvailabilityQuerySchema } from '../protocol/messages.js'
import { findAlternatives } from './alternatives.js'
import { findAvailability } from './availability.js'
import { createHash } from 'node:crypto'
import { buildScheduleGrid, overlayUnsellable, slotStarts } from './grid.js'
import { toRuns } from './grid-runs.js'
import type { BookingChannel } from '../protocol/calendar.js'
import { describeProblem, type BayHealthFn } from './sellable.js'
import { createGridCache } from './grid-cache.js'
import { checkDate, desiredStateFor, MAX_AHEAD_DAYS, MAX_AHEAD_S, phaseAt } from './rules.js'
import { createSessionService } from './service.js'
import { createLevelSessionStore, type ArchiveDb, type Loaded, type SessionDb, type SessionStore } from './store.js'
import { createArchiver } from './archive.js'
import type { CalendarDb } from './calendar-store.js'
import { createTicker } from './ticker.js'
import type { PricingFn } from './holds.js'
import { clockAt, dateAt, dayBounds } from './tz.js'
import type { AvailabilityQuery, ScheduleReply, Scheduling, SessionFilter } from './types.js'

export type * from './types.js'
/** Calendar helpers in HUB_TIMEZONE for the adapters (today's date, a day's bounds). */
export { dateAt, dayBounds, offsetAt } from './tz.js'
export type { ArchiveDb, SessionDb, StoredSession } from './store.js'
export { KEY_RETENTION_S, MAX_KEY_LENGTH } from './idempotency.js'
export type { BayHealthFn } from './sellable.js'
export type { CalendarDb, StoredCalendar } from './calendar-store.js'
export { compileCalendar, defaultCalendar, type CompiledCalendar } from './calendar.js'
export type { PricingFn } from './holds.js'
export { amountDue, describeMoney, paidSum } from './holds.js'

export interface SchedulingDeps {
  config: Config
  clock: Clock
  events: EventBus<HubEvents>
  /** `db.sublevel('sessions', { valueEncoding: 'json' })` */
  store: SessionDb
  /**
   * `db.sublevel('sessions-archive', { valueEncoding: 'json' })` of the same database: sessions
   * ended more than HUB_ARCHIVE_AFTER_DAYS ago move there (archive.ts). Without it nothing is archived.
   */
  archive?: ArchiveDb
  log: Logger
  /** most queued changes written in one synced batch (group commit; default 256, 1 = off) */
  maxBatch?: number
  /**
   * Why a bay cannot dispense now (the machines module, wired in src/hub.ts: scheduling never
   * imports machines). Kiosk/reservation bookings and availability refuse such bays; default: all healthy.
   */
  bayHealth?: BayHealthFn
  /** the audit log: every booking change is recorded in its own batch (audit/log.ts) */
  audit?: AuditLog
  /** `db.sublevel('calendar', { valueEncoding: 'json' })`: the venue calendar (issue 14); without it, memory only */
  calendarDb?: CalendarDb
  /** issue 12: the price table's quote (src/payments; scheduling never imports it); default: nothing is charged */
  pricing?: PricingFn
  /**
   * issue 17: the bays whose schedule state changes now (a session starts or ends), told by the
   * lifecycle step *before* its durable write, so their controls leave without waiting for the
   * fsync (src/hub.ts -> machines.reconcile). Safe: what a bay must do is derived from the clock
   * and the schedule (desiredStateFor), so a restart before the write sends the same. Its promise
   * (machines.drive: the controls are on their sockets) holds the step's batch until it settles.
   */
  onTransition?: (machineIds: readonly number[]) => void | Promise<void>
  /**
   * issue 17, start-up: the read of the live sessions (`readLiveSessions(store, archive)`), begun
   * by the hub as soon as the database is open, so LevelDB reads them in its thread while the
   * broker and the modules before scheduling start; `start()` takes it instead of reading again
   * (once: a later start reads anew). Safe because nothing but this module's writer writes the
   * sessions sublevel, and it writes only after `start()`. Default: read at `start()`.
   */
  loaded?: Promise<Loaded>
}

/** The start-up read of the live sessions and remembered keys (store.ts `load`), for `SchedulingDeps.loaded`. */
export function readLiveSessions(store: SessionDb, archive?: ArchiveDb): Promise<Loaded> {
  return createLevelSessionStore(store, archive).load()
}

const checkAvailability = decoderFor(AvailabilityQuerySchema)
const byStart = (a: SessionRecord, b: SessionRecord) => a.start_time - b.start_time || a.session_id - b.session_id

export interface SchedulingInternals {
  /** writer batches and steps so far (group commit: steps/batches = changes per synced write) */
  stats(): { batches: number; steps: number }
  /** resolves when no change is queued (tests, benchmarks) */
  idle(): Promise<void>
  /** archives what is due now (also run at start and daily); resolves with how many sessions moved */
  archiveNow(): Promise<number>
}

export function createScheduling(deps: SchedulingDeps): Scheduling & SchedulingInternals {
  const { config, clock, log } = deps
  const nowS = () => clock.now() / 1000
  let ticker: ReturnType<typeof createTicker> | undefined
  const grids = createGridCache({
    bounds: (date) => dayBounds(config.timezone, date),
    build(date) {
      const { from, to } = dayBounds(config.timezone, date)
      const calendar = service.calendar()
      const span = calendar.gridSpan(date)
      return buildScheduleGrid(date, config.slotMinutes, calendar, config.machineIds, list({ from: Math.min(from, span.from), to: Math.max(to, span.to) }))
    },
  })
  const health: BayHealthFn = (id, at) => {
    try {
      return deps.bayHealth?.(id, at)
    } catch (error) {
      // A broken health port must not stop bookings or the grid; log and treat the bay as healthy.
      log.error({ err: error, machineId: id }, 'bay health failed')
      return undefined
    }
  }
  /** Every bay that cannot be sold now, with its problem. */
  const problemsNow = (at: number) => {
    const out = new Map<number, NonNullable<ReturnType<BayHealthFn>>>()
    for (const id of config.machineIds) {
      const p = health(id, at)
      if (p) out.set(id, p)
    }
    return out
  }
  const levelStore = createLevelSessionStore(deps.store, deps.archive)
  let preloaded = deps.loaded
  const store: SessionStore = {
    ...levelStore,
    load() {
      const read = preloaded ?? levelStore.load()
      preloaded = undefined
      return read
    },
  }
  const service = createSessionService({
    ...deps,
    health,
    store,
    onDue: (atS) => ticker?.consider(atS),
    onCommitted: (event) => grids.changed(event.session, event.previous),
    calendarDb: deps.calendarDb,
    // Every date's rows and shading may change with the calendar.
    onCalendar: () => grids.clear(),
  })
  const calendarReply = () => {
    const stored = service.calendarStored()
    return {
      calendar: service.calendar().calendar,
      timezone: config.timezone,
      updated_at: stored?.updated_at ?? null,
      updated_by: stored?.updated_by ?? null,
    }
  }
  ticker = createTicker({ clock, log, advance: service.advance })
  const archiver = store.canArchive
    ? createArchiver({ clock, log, afterDays: config.archiveAfterDays, candidates: service.archivable, move: service.archive })
    : undefined

  /**
   * Health changes without a session change (and an offline bay turns unsellable after a grace,
   * with no event at all), so it is asked on every request and laid over the cached grid. The
   * overlay is part of the reply's cache key: the unsellable bays with their reasons and the
   * first slot not yet over (cells before it keep their status), so a reply is made again only
   * when one of those changes.
   */
  const scheduleReply = (date: string, format: ScheduleFormat) => {
    const checked = checkDate(date, dateAt(config.timezone, nowS()))
    if (!checked.ok) return checked
    const now = nowS()
    const problems = problemsNow(now)
    const slotS = config.slotMinutes * 60
    let key: string = format
    let bays: Map<number, { until: number | null; reason: string }> | undefined
    if (problems.size > 0) {
      bays = new Map([...problems].map(([id, p]) => [id, { until: p.until, reason: describeProblem(id, p, config.timezone) }]))
      const grid = grids.get(date)
      const live = grid.first_slot === undefined ? 0 : Math.min(grid.schedule.length, Math.max(0, Math.floor((now - grid.first_slot) / slotS)))
      key = `${format}|${live}|${JSON.stringify([...bays])}`
    }
    return ok(
      grids.reply(date, key, (grid): ScheduleReply => {
        const slots = bays ? overlayUnsellable(grid, slotStarts(date, config.slotMinutes, service.calendar()), slotS, { nowS: now, bays }) : grid
        const body = format === 'runs' ? toRuns(slots, config.timezone) : slots
        const bytes = Buffer.from(JSON.stringify(body))
        return { format, body, bytes, etag: `"${createHash('sha1').update(bytes).digest('base64url')}"` }
      }),
    )
  }

  const list = (filter: SessionFilter = {}): SessionRecord[] => {
    const source = filter.machineId === undefined ? service.records() : service.sessionsOn([filter.machineId])
    return source
      .filter((s) => filter.status === undefined || s.status === filter.status)
      .filter((s) => filter.from === undefined || s.end_time > filter.from)
      .filter((s) => filter.to === undefined || s.start_time < filter.to)
      .sort((a, b) => a.start_time - b.start_time || a.session_id - b.session_id)
  }

  return {
    submit: (session, options) => service.submit(session, options),
    pay: (id, payment, options) => service.pay(id, payment, options),
    setPaymentRequest: (id, request) => service.setPaymentRequest(id, request),
    checkIn: (id, options) => service.checkIn(id, options),
    extend: (id, durationS, options) => service.extend(id, durationS, options),
    findByPayment(paymentId) {
      const id = service.idOfPayment(paymentId)
      return id === undefined ? undefined : service.get(id)
    },
    async cancel(sessionId, options) {
      const existing = service.get(sessionId)
      if (!existing) return err('SESSION_NOT_FOUND', `session_id: no session ${sessionId}`, 'session_id')
      return service.submit({ session_id: sessionId, machine_id: existing.machine_id, status: 'cancelled' }, options)
    },
    get: (id) => service.get(id),
    async find(id) {
      return service.get(id) ?? (await store.getArchived(id))?.record
    },
    history,
    findByExternalId(externalId) {
      const id = service.idOfExternal(externalId)
      return id === undefined ? undefined : service.get(id)
    },
    list,
    scheduleFor(date) {
      const reply = scheduleReply(date, 'slots')
      return reply.ok ? ok(reply.value.body as Schedule) : reply
    },
    scheduleReply,
    checkDate: (date) => checkDate(date, dateAt(config.timezone, nowS())),
    alternatives,
    async move(sessionId, target, options) {
      const session = service.get(sessionId)
      if (!session) return err('SESSION_NOT_FOUND', `session ${sessionId} does not exist`, 'session_id')
      if (session.status === 'maintenance') return err('SESSION_INVALID', `session_id: session ${sessionId} is a maintenance block; change its bays instead`, 'session_id')
      let bays = target ? [...target] : undefined
      if (!bays) {
        const found = alternatives(sessionId, 1)
        if (!found.ok) return found
        const best = found.value[0]
        if (!best) return err('MOVE_NO_ALTERNATIVE', `no free bay that can dispense in the row of bay ${session.machine_id[0]} for session ${sessionId} (${clockAt(config.timezone, session.start_time)}-${clockAt(config.timezone, session.end_time)})`, 'machine_id')
        bays = best.machine_id
      }
      if (bays.length !== session.machine_id.length) {
        return err('SESSION_INVALID', `machine_id: session ${sessionId} has ${session.machine_id.length} bay(s); a move names as many`, 'machine_id')
      }
      if ([...bays].sort((a, b) => a - b).join(',') === [...session.machine_id].sort((a, b) => a - b).join(',')) {
        return err('SESSION_INVALID', `machine_id: session ${sessionId} is already on bay ${session.machine_id.join(', ')}`, 'machine_id')
      }
      const { force, ...rest } = options
      const outcome = await service.submit(
        { session_id: sessionId, machine_id: bays, status: 'reserved', start_time: session.start_time, duration: session.duration, origin_node: session.origin_node, ...(force === true && { force }) },
        rest,
      )
      if (!outcome.ok) return outcome
      return ok({ ...outcome.value, from: [...session.machine_id] })
    },
    availability: (query, options) => availability(query, options),
    // Only open sessions can be running (rules.ts phaseAt): asked per bay at every reconcile and tick.
    desiredStateFor: (machineId, at) => desiredStateFor(machineId, service.openOn(machineId), at),
    recheck: () => ticker.consider(nowS()),
    closingAfter: (at) => service.calendar().closingAfter(at),
    calendar: () => calendarReply(),
    setCalendar: async (next, options) => {
      const outcome = await service.setCalendar(next, options)
      if (!outcome.ok) return outcome
      // After the durable write: the affected sessions are flagged (src/hub.ts -> affected), feeds refresh.
      deps.events.emit('calendar.changed', { updated_by: outcome.value.stored.updated_by, affected: outcome.value.affected })
      return { ok: true, value: { ...calendarReply(), affected: outcome.value.affected } }
    },
    isFreeAt: (bays, start, end) => service.calendar().isFreeAt(bays, start, end),
    async start() {
      await service.load()
      await ticker.start()
      archiver?.start()
    },
    async stop() {
      await archiver?.stop()
      await ticker.stop()
      await service.idle()
    },
    stats: () => service.stats(),
    idle: () => service.idle(),
    archiveNow: () => archiver?.sweep() ?? Promise.resolve(0),
    gridStats: () => grids.stats(),
  }

  /**
   * Live and archived sessions starting in [from, to), in start order (then id), read lazily:
   * the archive streams from LevelDB, so a year of history is never in memory at once.
   */
  async function* history(range: { from: number; to: number }): AsyncGenerator<SessionRecord> {
    const live = service.records().filter((s) => s.start_time >= range.from && s.start_time < range.to).sort(byStart)
    // A session archived while this runs is in the live snapshot and the archive: once only.
    const liveIds = new Set(live.map((s) => s.session_id))
    let i = 0
    for await (const { record } of store.archived(range.from, range.to)) {
      if (liveIds.has(record.session_id)) continue
      while (i < live.length && byStart(live[i]!, record) < 0) yield live[i++]!
      yield record
    }
    while (i < live.length) yield live[i++]!
  }

  function alternatives(sessionId: number, limit = 3) {
    const session = service.get(sessionId)
    if (!session) return err('SESSION_NOT_FOUND', `session ${sessionId} does not exist`, 'session_id')
    const now = nowS()
    if (phaseAt(session, now) === 'completed' || phaseAt(session, now) === 'cancelled') {
      return err('SESSION_ENDED', `session_id: session ${sessionId} is ${phaseAt(session, now)} and cannot move`, 'session_id')
    }
    return ok(
      findAlternatives({
        session, nowS: now, bufferS: config.bufferMinutes * 60, rows: config.layoutRows,
        sessionsOn: (bays) => service.sessionsOn(bays), health, limit: Math.min(Math.max(1, Math.floor(limit)), 50),
      }),
    )
  }

  function availability(query: AvailabilityQuery, options: { channel?: BookingChannel } = {}) {
    const checked = checkAvailability.check(query)
    if (!checked.ok) return err('SESSION_INVALID', checked.message, checked.field)
    const widest = Math.max(...config.layoutRows.map((r) => r.length))
    if (query.bays > widest) return err('SESSION_INVALID', `bays: must be a whole number from 1 to ${widest} (the widest row)`, 'bays')
    const limit = query.limit ?? 5
    // The booking window (rules.ts): a preferred start past it could only find nothing, slowly.
    if (query.near !== undefined && !(Number.isFinite(query.near) && query.near <= nowS() + MAX_AHEAD_S)) {
      return err('SESSION_INVALID', `near: more than ${MAX_AHEAD_DAYS} days ahead (bookings open at most ${MAX_AHEAD_DAYS} days in advance)`, 'near')
    }
    const now = nowS()
    return ok(
      findAvailability({
        bays: query.bays,
        durationS: query.minutes * 60,
        nearS: query.near ?? now,
        nowS: now,
        limit,
        slotS: config.slotMinutes * 60,
        bufferS: config.bufferMinutes * 60,
        timeZone: config.timezone,
        rows: config.layoutRows,
        sessionsOn: (bays) => service.sessionsOn(bays),
        calendar: service.calendar(),
        channel: options.channel ?? 'kiosk',
        problems: problemsNow(now),
      }),
    )
  }
}
