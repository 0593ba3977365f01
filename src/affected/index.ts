/**
 * createAffected: sessions on a bay that stopped working (issue 11, DESIGN §9 "Sellable").
 * On every session change, on a machine change that changes the bay's health, and once a second
 * (the offline grace runs out without an event) it asks each bay's health, flags the running and upcoming sessions a problem hits
 * (a durable record in the `affected` sublevel), names them in one `session_affected` alert
 * per bay, emits `session.affected` (WebSocket feed, the owner's MQTT topic, internal/admin,
 * uplink) and clears the flag when the bay recovers, the session moves off it or ends.
 * A running session on a bay that cannot dispense accrues a credit (src/credits) until then.
 *
 * Other modules flag sessions for their own reasons with `flagAffected(ids, reason, message)`
 * (the calendar, when a bay window closes over bookings) and `clearAffected(ids)`.
 * Restart: flags and accruing credits are durable; a credit whose bay recovered while the hub
 * was down stops at the first check after start.
 */
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import type { Credits } from '../credits/index.js'
import type { AffectedQuery, AffectedSession } from '../protocol/affected.js'
import type { HubEvents } from '../protocol/events.js'
import type { BayProblem, SessionRecord } from '../protocol/messages.js'
import { describeProblem } from '../scheduling/sellable.js'
import { clockAt } from '../scheduling/tz.js'
import { detect, isOpen, type BayIssue, type Detected, type ManualFlag } from './detect.js'

type Op = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string }

export interface AffectedDb {
  batch(operations: Op[], options: { sync: boolean }): Promise<void>
  iterator(): AsyncIterable<[string, unknown]>
}

export interface AffectedDeps {
  clock: Clock
  events: EventBus<HubEvents>
  log: Logger
  /** `db.sublevel('affected', { valueEncoding: 'json' })` */
  db: AffectedDb
  timeZone: string
  machineIds: readonly number[]
  /** scheduling's reads (src/hub.ts) */
  sessions: {
    get(id: number): SessionRecord | undefined
    list(filter: { machineId?: number; from?: number }): SessionRecord[]
  }
  /** machines.health: why a bay cannot be sold / dispense now */
  health: (machineId: number, nowS: number) => BayProblem | undefined
  /** the bay dispenses although unsellable (an admin started it by hand) */
  dispensing: (machineId: number) => boolean
  credits: Credits
  /** raise / update (message) or clear (null) the bay's `session_affected` alert */
  alert: (machineId: number, message: string | null) => Promise<void>
  /** how often the grace and accrual are checked without an event (default 1000 ms) */
  tickMs?: number
}

export interface Affected {
  /** flagged now (default), cleared, or all; newest first, bounded (default 100, at most 500) */
  list(query?: AffectedQuery): AffectedSession[]
  get(sessionId: number): AffectedSession | undefined
  /** Flags sessions for a reason of the caller's (e.g. `calendar`); durable when it resolves. Cleared by clearAffected, a move or the end. */
  flagAffected(sessionIds: readonly number[], reason: string, message?: string): Promise<void>
  clearAffected(sessionIds: readonly number[]): Promise<void>
  /** run the check now (it also runs on every session change, a machine change of a bay's health, and once a second) */
  check(): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}

const OWNER = 'affected'
const MAX_LIST = 500
/** Cleared flags are kept this long for the list (and the audit of what happened), then dropped. */
const KEEP_CLEARED_S = 7 * 86_400
const recordKey = (id: number) => `a:${String(id).padStart(12, '0')}`
const flagKey = (id: number) => `m:${String(id).padStart(12, '0')}`

export function createAffected(deps: AffectedDeps): Affected {
  const { clock, events, log, db, credits, timeZone } = deps
  const nowS = () => clock.now() / 1000
  const records = new Map<number, AffectedSession>()
  const manual = new Map<number, ManualFlag>()
  /** what each bay's alert says now (undefined: none raised by us) */
  const alerted = new Map<number, string>()
  /** each bay's health as the last check saw it (healthOf): a machine change that leaves it alone needs no check */
  const seen = new Map<number, string>()
  let stopped = true
  let cancelTick: (() => void) | undefined
  let running: Promise<void> | null = null
  let again = false

  const hhmm = (s: number) => clockAt(timeZone, s)
  const label = (s: SessionRecord, running: boolean) => `session ${s.session_id} (${hhmm(s.start_time)}-${hhmm(s.end_time)}${running ? ', running' : ''})`

  /** A bay's health now and what of it the check depends on, as a string to compare. */
  const healthOf = (id: number, now: number) => {
    const problem = deps.health(id, now)
    const dispensing = problem?.reason === 'held' && deps.dispensing(id)
    return { problem, dispensing, key: problem ? `${JSON.stringify(problem)}${dispensing ? '+dispensing' : ''}` : '' }
  }

  const issuesAt = (now: number): Map<number, BayIssue> => {
    const out = new Map<number, BayIssue>()
    for (const id of deps.machineIds) {
      const { problem, dispensing, key } = healthOf(id, now)
      seen.set(id, key)
      if (problem) out.set(id, { problem, message: describeProblem(id, problem, timeZone), dispensing })
    }
    return out
  }

  /**
   * issue 17: a bay's every Confirmation and report is a machine change; a check reads all bays,
   * so checking on each one cost a 1,000-bay changeover a million health reads. Only a change of
   * the bay's health (or of whether it dispenses while held) can change what the check finds;
   * what time alone changes (the offline grace running out) the once-a-second tick finds.
   */
  const machineChanged = (id: number) => {
    if (healthOf(id, nowS()).key !== seen.get(id)) void check()
  }

  /**
   * issue 17: every booking is a session change, and a check reads every bay. A change can alter
   * what the check finds only on a bay with an issue (as the last check or machine change saw it;
   * a bay never seen counts as one) or for a session flagged now (a cancel or a move clears it).
   */
  const sessionChanged = (session: SessionRecord, previous: SessionRecord | undefined) => {
    const id = session.session_id
    const bays = previous ? [...session.machine_id, ...previous.machine_id] : session.machine_id
    if (records.get(id)?.affected === true || manual.has(id) || bays.some((bay) => seen.get(bay) !== '')) void check()
  }

  const candidates = (issues: ReadonlyMap<number, BayIssue>, now: number): SessionRecord[] => {
    const byId = new Map<number, SessionRecord>()
    for (const bay of issues.keys()) for (const s of deps.sessions.list({ machineId: bay, from: now })) byId.set(s.session_id, s)
    for (const id of manual.keys()) {
      const s = deps.sessions.get(id)
      if (s) byId.set(id, s)
    }
    return [...byId.values()]
  }

  const flaggedRecord = (d: Detected, prev: AffectedSession | undefined, now: number): AffectedSession => ({
    session_id: d.session.session_id,
    machine_id: [...d.session.machine_id],
    start_time: d.session.start_time,
    end_time: d.session.end_time,
    owner: d.session.origin_node,
    affected: true,
    bays: d.bays,
    message: `${label(d.session, d.running)}: ${d.bays.map((b) => b.message).join('; ')}`,
    running: d.running,
    since: prev?.affected ? prev.since : now,
    cleared_at: null,
    lost_seconds: credits.lostSeconds(d.session.session_id),
  })

  const clearReason = (r: AffectedSession, now: number): NonNullable<AffectedSession['cleared_reason']> => {
    const s = deps.sessions.get(r.session_id)
    if (!s || s.status === 'cancelled') return 'cancelled'
    if (!isOpen(s, now)) return 'ended'
    if (s.machine_id.join(',') !== r.machine_id.join(',')) return 'moved'
    return 'recovered'
  }

  const same = (a: AffectedSession, b: AffectedSession) =>
    a.affected === b.affected && a.running === b.running && a.machine_id.join(',') === b.machine_id.join(',') && JSON.stringify(a.bays) === JSON.stringify(b.bays)

  const evaluate = async () => {
    const now = nowS()
    const issues = issuesAt(now)
    const { affected, lost } = detect(candidates(issues, now), issues, manual, now)

    // Credits first, so the flag's lost_seconds counts what stopped just now.
    const wanted = new Set(lost.map((l) => `${l.session_id}:${l.machine_id}`))
    for (const c of credits.open()) if (!wanted.has(`${c.session_id}:${c.machine_id}`)) await credits.stop(c.session_id, c.machine_id, now)
    for (const l of lost) if (!credits.accruing(l.session_id, l.machine_id)) await credits.start(l.session_id, l.machine_id, l.reason, now)

    const changed: AffectedSession[] = []
    for (const d of affected.values()) {
      const prev = records.get(d.session.session_id)
      const next = flaggedRecord(d, prev, now)
      if (!prev || !same(prev, next)) changed.push(next)
    }
    for (const r of records.values()) {
      if (!r.affected || affected.has(r.session_id)) continue
      const s = deps.sessions.get(r.session_id)
      changed.push({
        ...r,
        ...(s && { machine_id: [...s.machine_id], start_time: s.start_time, end_time: s.end_time }),
        affected: false,
        cleared_at: now,
        cleared_reason: clearReason(r, now),
        lost_seconds: credits.lostSeconds(r.session_id),
      })
    }
    // Manual flags of sessions that ended or were cancelled go with them.
    const staleFlags = [...manual.keys()].filter((id) => {
      const s = deps.sessions.get(id)
      return !s || !isOpen(s, now)
    })
    if (changed.length > 0 || staleFlags.length > 0) {
      await db.batch(
        [...changed.map((r) => ({ type: 'put' as const, key: recordKey(r.session_id), value: r })), ...staleFlags.map((id) => ({ type: 'del' as const, key: flagKey(id) }))],
        { sync: true },
      )
      for (const id of staleFlags) manual.delete(id)
      for (const r of changed) {
        records.set(r.session_id, r)
        events.emit('session.affected', { affected: r })
        log.info({ sessionId: r.session_id, affected: r.affected, bays: r.bays.map((b) => b.machine_id), cleared: r.cleared_reason }, r.affected ? 'session affected' : 'session no longer affected')
      }
    }
    await updateAlerts(affected, issues)
  }

  /** One alert per bay naming every session it affects; cleared when none is left. */
  const updateAlerts = async (affected: ReadonlyMap<number, Detected>, issues: ReadonlyMap<number, BayIssue>) => {
    const perBay = new Map<number, Detected[]>()
    for (const d of affected.values()) for (const b of d.bays) perBay.set(b.machine_id, [...(perBay.get(b.machine_id) ?? []), d])
    const wanted = new Map<number, string>()
    for (const [bay, list] of perBay) {
      const why = issues.get(bay)?.message ?? list[0]!.bays.find((b) => b.machine_id === bay)!.message
      const names = list.sort((a, b) => a.session.start_time - b.session.start_time).map((d) => label(d.session, d.running))
      wanted.set(bay, `${why}: ${names.length === 1 ? 'affects' : `${names.length} sessions affected:`} ${names.join(', ')}`)
    }
    for (const [bay, message] of wanted) {
      if (alerted.get(bay) === message) continue
      await deps.alert(bay, message)
      alerted.set(bay, message)
    }
    for (const bay of [...alerted.keys()]) {
      if (wanted.has(bay)) continue
      await deps.alert(bay, null)
      alerted.delete(bay)
    }
  }

  /** One check at a time; a trigger during a check runs one more after it. */
  const check = (): Promise<void> => {
    if (stopped) return Promise.resolve()
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      do {
        again = false
        try {
          await evaluate()
        } catch (error) {
          log.error({ err: error }, 'affected sessions check failed')
        }
      } while (again && !stopped)
    })().finally(() => {
      running = null
    })
    return running
  }

  const tick = () => {
    void check().finally(() => {
      if (!stopped) cancelTick = clock.setTimeout(tick, deps.tickMs ?? 1000)
    })
  }

  return {
    list(query = {}) {
      const state = query.state ?? 'affected'
      const limit = Math.min(Math.max(query.limit ?? 100, 1), MAX_LIST)
      return [...records.values()]
        .filter((r) => state === 'all' || (state === 'affected') === r.affected)
        .filter((r) => query.machine_id === undefined || r.machine_id.includes(query.machine_id) || r.bays.some((b) => b.machine_id === query.machine_id))
        .sort((a, b) => (b.cleared_at ?? b.since) - (a.cleared_at ?? a.since) || b.session_id - a.session_id)
        .slice(0, limit)
        .map((r) => ({ ...r, lost_seconds: credits.lostSeconds(r.session_id) }))
    },
    get(id) {
      const r = records.get(id)
      return r && { ...r, lost_seconds: credits.lostSeconds(id) }
    },
    async flagAffected(ids, reason, message) {
      const flags = ids.filter((id) => deps.sessions.get(id) !== undefined).map((id) => [id, { reason, message: message ?? `flagged: ${reason}` }] as const)
      if (flags.length === 0) return
      await db.batch(flags.map(([id, flag]) => ({ type: 'put' as const, key: flagKey(id), value: flag })), { sync: true })
      for (const [id, flag] of flags) manual.set(id, flag)
      await check()
    },
    async clearAffected(ids) {
      const known = ids.filter((id) => manual.has(id))
      if (known.length === 0) return
      await db.batch(known.map((id) => ({ type: 'del' as const, key: flagKey(id) })), { sync: true })
      for (const id of known) manual.delete(id)
      await check()
    },
    check,
    async start() {
      const now = nowS()
      const drop: Op[] = []
      for await (const [key, value] of db.iterator()) {
        if (!value || typeof value !== 'object') continue
        if (key.startsWith('m:')) manual.set(Number(key.slice(2)), value as ManualFlag)
        else if (key.startsWith('a:')) {
          const r = value as AffectedSession
          if (!r.affected && r.cleared_at !== null && now - r.cleared_at > KEEP_CLEARED_S) drop.push({ type: 'del', key })
          else records.set(r.session_id, r)
        }
      }
      if (drop.length > 0) await db.batch(drop, { sync: true })
      // Bays whose alert a previous run raised: the first check clears those no longer wanted.
      for (const id of deps.machineIds) alerted.set(id, '')
      stopped = false
      events.on('machine.changed', OWNER, ({ machine }) => machineChanged(machine.machine_id))
      events.on('session.changed', OWNER, ({ session, previous }) => sessionChanged(session, previous))
      await check()
      cancelTick = clock.setTimeout(tick, deps.tickMs ?? 1000)
    },
    async stop() {
      stopped = true
      events.off(OWNER)
      cancelTick?.()
      await running
      await credits.idle()
    },
  }
}
