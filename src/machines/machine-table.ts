/**
 * The in-memory machine table and its one write path: mutate -> durable write (only when
 * something meaningful changed) -> 'machine.changed' / alert events, in that order
 * (STYLE §2.3: events are facts emitted after the durable write).
 */
import type { Logger } from 'pino'
import type { AuditLog } from '../audit/log.js'
import type { AuditDraft } from '../protocol/audit.js'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import type { HubEvents } from '../protocol/events.js'
import type { Alert, AlertKind, DesiredState, MachineState } from '../protocol/messages.js'
import { acknowledge, clearAlerts, raiseAlert, reopen, reopenable, updateAlert } from './alerts.js'
import { initialPresence, type Presence } from './presence.js'
import { LAST_SEEN_WRITE_INTERVAL_S, emptyRecord, sameDurable, sameShown, toMachineState, type MachineRecord } from './record.js'
import type { MachineStore } from './store.js'
import { ReportHistory } from './report-history.js'

export interface Entry {
  record: MachineRecord
  presence: Presence
  desired: DesiredState | null
  /** send the required state even if the stored report matches (set on connect, DESIGN §4) */
  force: boolean
  /** connected, no report yet on this connection (see handlers.ts) */
  fresh: boolean
  history: ReportHistory
  /** the state last announced in 'machine.changed' (or at load) */
  shown: MachineState | null
  /** the record as last written (or loaded), a shallow copy; null: the next update writes */
  saved: MachineRecord | null
  persistedLastSeen: number | null
}

/** Collects alert transitions made during one mutation, emitted after the write. */
export interface Effects {
  raise(kind: AlertKind, message: string): void
  /** raise, or give the open alert of this kind the new message (announced as raised again, same id) */
  note(kind: AlertKind, message: string): void
  clear(...kinds: AlertKind[]): void
}

const RECENT_CLEARED = 200

export interface MachineTable {
  load(ids: readonly number[], records: readonly MachineRecord[]): void
  get(id: number): Entry | undefined
  entries(): IterableIterator<Entry>
  state(id: number): MachineState | undefined
  /**
   * `audit(e)`, asked after the mutation: the audit entries of this change; they are written in
   * the same batch as the record (none when nothing durable changed).
   */
  update(id: number, mutate: (e: Entry, fx: Effects) => void, audit?: (e: Entry) => readonly AuditDraft[]): Promise<void>
  /** emit 'machine.changed' if the visible state changed without a durable change (e.g. desired) */
  show(id: number): void
  alerts(): Alert[]
  /** `audit(alert)`: the entries of a real acknowledgement (not of a repeat), written with it */
  acknowledge(alertId: string, audit?: (alert: Alert) => readonly AuditDraft[]): Promise<Alert | null>
  /** Drops a cleared alert from the list: 'open' when it is still open, null when unknown. */
  dismiss(alertId: string): Alert | 'open' | null
}

export interface MachineTableDeps {
  clock: Clock
  events: EventBus<HubEvents>
  log: Logger
  store: MachineStore
  /** the audit log (src/audit): entries go in the record's batch */
  audit?: Pick<AuditLog, 'ops' | 'append'> | undefined
}

export function createMachineTable(deps: MachineTableDeps): MachineTable {
  const { clock, events, store } = deps
  const table = new Map<number, Entry>()
  let recent: Alert[] = []

  const stateOf = (e: Entry) => toMachineState(e.record, e.presence.online, e.desired)

  const show = (e: Entry) => {
    const machine = stateOf(e)
    if (e.shown !== null && sameShown(machine, e.shown)) return
    e.shown = machine
    events.emit('machine.changed', { machine })
  }

  const persist = (e: Entry, audit: readonly AuditDraft[] = []): Promise<void> | null => {
    const seen = e.record.last_seen
    const stale = seen !== null && (e.persistedLastSeen === null || seen - e.persistedLastSeen >= LAST_SEEN_WRITE_INTERVAL_S)
    // Nothing durable changed: nothing to record either.
    if (e.saved !== null && sameDurable(e.record, e.saved) && !stale) return null
    // A shallow copy is a snapshot: the record's nested parts are replaced, never changed in place.
    const saved = { ...e.record }
    e.saved = saved
    e.persistedLastSeen = seen
    const ops = audit.length > 0 && deps.audit ? deps.audit.ops(audit) : []
    return store.save(saved, ops).catch((error: unknown) => {
      // Not on disk: make the next change write the record again (unless a later one is on its way).
      if (e.saved === saved) e.saved = null
      throw error
    })
  }

  return {
    load(ids, records) {
      const byId = new Map(records.map((r) => [r.machine_id, r]))
      for (const id of ids) {
        const stored = byId.get(id)
        const record: MachineRecord = stored ? { ...emptyRecord(id), ...stored } : emptyRecord(id)
        // Nothing is connected to a hub that has just started; the old reason would mislead.
        if (record.offline_reason === null) record.offline_reason = 'not connected since the hub started'
        const entry: Entry = {
          record, presence: initialPresence(record.last_seen, record.offline_reason), desired: null, force: false, fresh: false, history: new ReportHistory(),
          shown: null, saved: { ...record }, persistedLastSeen: record.last_seen,
        }
        entry.shown = stateOf(entry)
        table.set(id, entry)
      }
    },
    get: (id) => table.get(id),
    entries: () => table.values(),
    state: (id) => {
      const e = table.get(id)
      return e ? stateOf(e) : undefined
    },
    async update(id, mutate, audit) {
      const e = table.get(id)
      if (!e) return
      const raised: Alert[] = []
      const cleared: Alert[] = []
      const nowS = clock.now() / 1000
      mutate(e, {
        raise(kind, message) {
          const back = e.record.alerts.some((a) => a.kind === kind) ? undefined : reopenable(recent, id, kind, nowS)
          if (back) {
            // The same episode: reopen the alert it cleared (same id) rather than raise a second one.
            recent = recent.filter((a) => a !== back)
            const again = reopen(back, message)
            e.record.alerts = [...e.record.alerts, again]
            raised.push(again)
            return
          }
          const r = raiseAlert(e.record.alerts, kind, id, message, nowS)
          e.record.alerts = r.open
          if (r.raised) raised.push(r.raised)
        },
        note(kind, message) {
          const u = updateAlert(e.record.alerts, kind, message)
          if (u.updated) {
            e.record.alerts = u.open
            raised.push(u.updated)
            return
          }
          this.raise(kind, message)
        },
        clear(...kinds) {
          const c = clearAlerts(e.record.alerts, kinds, nowS)
          e.record.alerts = c.open
          cleared.push(...c.cleared)
        },
      })
      const written = persist(e, audit?.(e))
      if (written) await written
      show(e)
      for (const alert of raised) events.emit('alert.raised', { alert })
      for (const alert of cleared) events.emit('alert.cleared', { alert })
      if (cleared.length > 0) recent = [...recent, ...cleared].slice(-RECENT_CLEARED)
    },
    show(id) {
      const e = table.get(id)
      if (e) show(e)
    },
    alerts: () => [...[...table.values()].flatMap((e) => e.record.alerts), ...recent].sort((a, b) => a.raised_at - b.raised_at),
    dismiss(alertId) {
      for (const e of table.values()) if (e.record.alerts.some((a) => a.alert_id === alertId)) return 'open'
      const found = recent.find((a) => a.alert_id === alertId)
      if (!found) return null
      recent = recent.filter((a) => a !== found)
      return found
    },
    async acknowledge(alertId, audit) {
      for (const e of table.values()) {
        const found = e.record.alerts.find((a) => a.alert_id === alertId)
        if (!found) continue
        const r = acknowledge(e.record.alerts, alertId)
        e.record.alerts = r.list
        // A repeat changes nothing and records nothing (persist writes only a change).
        await persist(e, found.acknowledged || !r.alert ? [] : (audit?.(r.alert) ?? []))
        return r.alert
      }
      const found = recent.find((a) => a.alert_id === alertId)
      const r = acknowledge(recent, alertId)
      recent = r.list
      // A cleared alert lives in memory only: its acknowledgement has no record to share a batch
      // with, so its entry is written alone (durable before the answer).
      if (found && !found.acknowledged && r.alert && deps.audit && audit) await deps.audit.append(audit(r.alert))
      return r.alert
    },
  }
}
