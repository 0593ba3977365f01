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
import type { SessionRecord } from '../protocol/messages.js'
import { findAvailability } from './availability.js'
import { buildScheduleGrid } from './grid.js'
import { createGridCache } from './grid-cache.js'
import { checkDate, desiredStateFor, MAX_AHEAD_DAYS, MAX_AHEAD_S } from './rules.js'
import { createSessionService } from './service.js'
import { createLevelSessionStore, type SessionDb } from './store.js'
import { createTicker } from './ticker.js'
import { dateAt, dayBounds } from './tz.js'
import type { AvailabilityQuery, Scheduling, SessionFilter } from './types.js'

export type * from './types.js'
/** Calendar helpers in HUB_TIMEZONE for the adapters (today's date, a day's bounds). */
export { dateAt, dayBounds } from './tz.js'
export type { SessionDb, StoredSession } from './store.js'
export { KEY_RETENTION_S, MAX_KEY_LENGTH } from './idempotency.js'

export interface SchedulingDeps {
  config: Config
  clock: Clock
  events: EventBus<HubEvents>
  /** `db.sublevel('sessions', { valueEncoding: 'json' })` */
  store: SessionDb
  log: Logger
  /** most queued changes written in one synced batch (group commit; default 256, 1 = off) */
  maxBatch?: number
}

export interface SchedulingInternals {
  /** writer batches and steps so far (group commit: steps/batches = changes per synced write) */
  stats(): { batches: number; steps: number }
  /** resolves when no change is queued (tests, benchmarks) */
  idle(): Promise<void>
}

export function createScheduling(deps: SchedulingDeps): Scheduling & SchedulingInternals {
  const { config, clock, log } = deps
  const nowS = () => clock.now() / 1000
  let ticker: ReturnType<typeof createTicker> | undefined
  const grids = createGridCache({
    bounds: (date) => dayBounds(config.timezone, date),
    build(date) {
      const { from, to } = dayBounds(config.timezone, date)
      return buildScheduleGrid(date, config.timezone, config.slotMinutes, config.openingHours, config.machineIds, list({ from, to }))
    },
  })
  const service = createSessionService({
    ...deps,
    store: createLevelSessionStore(deps.store),
    onDue: (atS) => ticker?.consider(atS),
    onCommitted: (event) => grids.changed(event.session, event.previous),
  })
  ticker = createTicker({ clock, log, advance: service.advance })

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
    async cancel(sessionId, options) {
      const existing = service.get(sessionId)
      if (!existing) return err('SESSION_NOT_FOUND', `session_id: no session ${sessionId}`, 'session_id')
      return service.submit({ session_id: sessionId, machine_id: existing.machine_id, status: 'cancelled' }, options)
    },
    get: (id) => service.get(id),
    findByExternalId(externalId) {
      const id = service.idOfExternal(externalId)
      return id === undefined ? undefined : service.get(id)
    },
    list,
    scheduleFor(date) {
      const checked = checkDate(date, dateAt(config.timezone, nowS()))
      return checked.ok ? ok(grids.get(date)) : checked
    },
    checkDate: (date) => checkDate(date, dateAt(config.timezone, nowS())),
    availability: (query) => availability(query),
    desiredStateFor: (machineId, at) => desiredStateFor(machineId, service.sessionsOn([machineId]), at),
    recheck: () => ticker.consider(nowS()),
    async start() {
      await service.load()
      await ticker.start()
    },
    async stop() {
      await ticker.stop()
      await service.idle()
    },
    stats: () => service.stats(),
    idle: () => service.idle(),
    gridStats: () => grids.stats(),
  }

  function availability(query: AvailabilityQuery) {
    const widest = Math.max(...config.layoutRows.map((r) => r.length))
    if (!Number.isInteger(query.bays) || query.bays < 1 || query.bays > widest) {
      return err('SESSION_INVALID', `bays: must be a whole number from 1 to ${widest}`, 'bays')
    }
    if (!Number.isInteger(query.minutes) || query.minutes < 1 || query.minutes > 7 * 24 * 60) {
      return err('SESSION_INVALID', 'minutes: must be a whole number from 1 to 10080', 'minutes')
    }
    const limit = query.limit ?? 5
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return err('SESSION_INVALID', 'limit: must be from 1 to 100', 'limit')
    // The booking window (rules.ts): a preferred start past it could only find nothing, slowly.
    if (query.near !== undefined && !(Number.isFinite(query.near) && query.near <= nowS() + MAX_AHEAD_S)) {
      return err('SESSION_INVALID', `near: more than ${MAX_AHEAD_DAYS} days ahead (bookings open at most ${MAX_AHEAD_DAYS} days in advance)`, 'near')
    }
    return ok(
      findAvailability({
        bays: query.bays,
        durationS: query.minutes * 60,
        nearS: query.near ?? nowS(),
        nowS: nowS(),
        limit,
        slotS: config.slotMinutes * 60,
        bufferS: config.bufferMinutes * 60,
        timeZone: config.timezone,
        rows: config.layoutRows,
        sessionsOn: (bays) => service.sessionsOn(bays),
      }),
    )
  }
}
