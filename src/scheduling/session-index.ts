/**
 * The committed sessions in memory, indexed by id, bay and external id, plus the open set
 * (reserved, active, maintenance) the ticker scans. Only the writer changes it, and only after
 * the durable write. A `Tx` is the writer's view during one group commit: the committed index
 * with the batch's pending changes laid over it.
 */
import type { AuditOp } from '../audit/log.js'
import type { CompiledCalendar } from './calendar.js'
import { MAX_SESSION_ID, type SessionRecord } from '../protocol/messages.js'
import type { KeyMemory, RememberedKey } from './idempotency.js'
import type { StoredSession } from './store.js'

export interface SessionView {
  get(id: number): StoredSession | undefined
  /** sessions that hold any of these bays (cancelled ones excluded) */
  sessionsOn(bays: readonly number[]): SessionRecord[]
  /** reserved, active and maintenance sessions */
  openRecords(): SessionRecord[]
  idOfExternal(externalId: string): number | undefined
  /** the session a payment (PaymentRecord.payment_id) or a terminal request (payment_request.payment_id) belongs to */
  idOfPayment(paymentId: string): number | undefined
}

export interface SessionIndex extends SessionView {
  /**
   * the open sessions (held, reserved, active, maintenance) on a bay: the only ones that can make
   * it dispense (rules.ts phaseAt), without the bay's weeks of ended ones (issue 17)
   */
  openOn(bay: number): SessionRecord[]
  put(entry: StoredSession): void
  /** drops an archived session (its id stays below maxId: never reused) */
  remove(id: number): void
  all(): IterableIterator<StoredSession>
  size(): number
  maxId(): number
  /** the allocator's floor: ids up to this exist elsewhere (the archive) */
  raiseMaxId(id: number): void
}

const isOpen = (r: SessionRecord) => r.status === 'held' || r.status === 'reserved' || r.status === 'active' || r.status === 'maintenance'

export function createSessionIndex(): SessionIndex {
  const byId = new Map<number, StoredSession>()
  const byBay = new Map<number, Set<number>>()
  const byExternal = new Map<string, number>()
  const byPayment = new Map<string, number>()
  const open = new Set<number>()
  const openByBay = new Map<number, Set<number>>()
  let max = 0

  const unlink = (record: SessionRecord) => {
    for (const bay of record.machine_id) {
      byBay.get(bay)?.delete(record.session_id)
      openByBay.get(bay)?.delete(record.session_id)
    }
    open.delete(record.session_id)
  }
  const link = (record: SessionRecord) => {
    if (record.status !== 'cancelled') {
      for (const bay of record.machine_id) {
        let set = byBay.get(bay)
        if (!set) byBay.set(bay, (set = new Set()))
        set.add(record.session_id)
      }
    }
    if (isOpen(record)) {
      open.add(record.session_id)
      for (const bay of record.machine_id) {
        let set = openByBay.get(bay)
        if (!set) openByBay.set(bay, (set = new Set()))
        set.add(record.session_id)
      }
    }
    if (record.external_id !== undefined) byExternal.set(record.external_id, record.session_id)
    // Payments are never removed from a session, so the map only grows with them.
    forEachPaymentId(record, (paymentId) => byPayment.set(paymentId, record.session_id))
  }

  return {
    get: (id) => byId.get(id),
    sessionsOn(bays) {
      const ids = new Set<number>()
      for (const bay of bays) for (const id of byBay.get(bay) ?? []) ids.add(id)
      return [...ids].map((id) => byId.get(id)!.record)
    },
    openRecords: () => [...open].map((id) => byId.get(id)!.record),
    openOn(bay) {
      const out: SessionRecord[] = []
      for (const id of openByBay.get(bay) ?? []) out.push(byId.get(id)!.record)
      return out
    },
    idOfExternal: (externalId) => byExternal.get(externalId),
    idOfPayment: (paymentId) => byPayment.get(paymentId),
    put(entry) {
      const id = entry.record.session_id
      const old = byId.get(id)
      if (old) unlink(old.record)
      byId.set(id, entry)
      link(entry.record)
      // Ids above the bound (stored before ids were bounded) never steer the allocator.
      if (id > max && id <= MAX_SESSION_ID) max = id
    },
    remove(id) {
      const old = byId.get(id)
      if (!old) return
      unlink(old.record)
      byId.delete(id)
      if (old.record.external_id !== undefined && byExternal.get(old.record.external_id) === id) byExternal.delete(old.record.external_id)
    },
    all: () => byId.values(),
    size: () => byId.size,
    maxId: () => max,
    raiseMaxId(id) {
      if (id > max && id <= MAX_SESSION_ID) max = id
    },
  }
}

export interface Tx extends SessionView {
  /** a free id for a new session (not yet taken by the index or this batch); undefined when none is left */
  freeId(): number | undefined
  put(entry: StoredSession): void
  /** pending writes in order of first change */
  readonly writes: Map<number, StoredSession>
  /** a remembered idempotency key (this batch's first), unless expired */
  remembered(id: string, nowS: number): RememberedKey | undefined
  remember(entry: RememberedKey): void
  /** keys to remember with this batch */
  readonly keyWrites: Map<string, RememberedKey>
  /** moves an ended session to the archive with this batch (it leaves the index after the write) */
  archive(entry: StoredSession): void
  readonly archives: Map<number, StoredSession>
  /** other records written in this batch (the calendar and its audit entry, issue 14) */
  readonly extraOps: AuditOp[]
  /** run after the batch is durable, before any event (the calendar takes effect) */
  readonly afterCommit: Array<() => void>
  /** the calendar a step of this batch set: later steps of the batch book against it */
  calendar: CompiledCalendar | undefined
  /**
   * set when a read saw (or could have seen) a change of this batch that is not durable yet; the
   * writer resets it before each step: a step that changed nothing and saw nothing pending was
   * decided on durable state alone, and may be answered before the batch's write (writer.ts)
   */
  readPending: boolean
}

export function createTx(index: SessionIndex, keys: KeyMemory): Tx {
  const writes = new Map<number, StoredSession>()
  const keyWrites = new Map<string, RememberedKey>()
  const archives = new Map<number, StoredSession>()
  let max = index.maxId()
  const pending = (id: number) => writes.has(id) || archives.has(id)
  const tx: Tx = {
    writes,
    archives,
    archive(entry) {
      // Only a session untouched by this batch moves: the archive gets exactly what is stored.
      if (!writes.has(entry.record.session_id)) archives.set(entry.record.session_id, entry)
    },
    get(id) {
      if (pending(id)) tx.readPending = true
      return writes.get(id) ?? (archives.has(id) ? undefined : index.get(id))
    },
    sessionsOn(bays) {
      const out: SessionRecord[] = []
      for (const r of index.sessionsOn(bays)) {
        if (pending(r.session_id)) tx.readPending = true
        else out.push(r)
      }
      for (const { record } of writes.values()) {
        if (!record.machine_id.some((b) => bays.includes(b))) continue
        tx.readPending = true
        if (record.status !== 'cancelled') out.push(record)
      }
      return out
    },
    openRecords() {
      if (writes.size > 0 || archives.size > 0) tx.readPending = true
      const out = index.openRecords().filter((r) => !writes.has(r.session_id))
      for (const { record } of writes.values()) if (isOpen(record)) out.push(record)
      return out
    },
    idOfExternal(externalId) {
      if (writes.size > 0) tx.readPending = true
      for (const { record } of writes.values()) if (record.external_id === externalId) return record.session_id
      return index.idOfExternal(externalId)
    },
    idOfPayment(paymentId) {
      if (writes.size > 0) tx.readPending = true
      for (const { record } of writes.values()) if (answersTo(record, paymentId)) return record.session_id
      return index.idOfPayment(paymentId)
    },
    // Above every id ever stored, so ids stay unique across restarts (the index reloads them all).
    // Clients never choose a new session's id, so only the hub's own allocations move `max`. (An
    // id only shows in an answer with the session it was given to, a write; only "none left
    // because of this batch" is an answer decided by it.)
    freeId() {
      if (max >= MAX_SESSION_ID && index.maxId() < MAX_SESSION_ID) tx.readPending = true
      return max < MAX_SESSION_ID ? max + 1 : undefined
    },
    put(entry) {
      writes.set(entry.record.session_id, entry)
      const id = entry.record.session_id
      if (id > max && id <= MAX_SESSION_ID) max = id
    },
    keyWrites,
    extraOps: [],
    afterCommit: [],
    calendar: undefined,
    readPending: false,
    remembered(id, nowS) {
      if (keyWrites.has(id)) tx.readPending = true
      return keyWrites.get(id) ?? keys.get(id, nowS)
    },
    remember(entry) {
      if (!keyWrites.has(entry.id)) keyWrites.set(entry.id, entry)
    },
  }
  return tx
}

/**
 * The payment ids a session answers to: its recorded payments and its terminal request. (No list
 * made for the many sessions without any: the index runs this for every live session at start.)
 */
function forEachPaymentId(record: SessionRecord, use: (paymentId: string) => void): void {
  if (record.payments) for (const p of record.payments) use(p.payment_id)
  if (record.payment_request) use(record.payment_request.payment_id)
}

const answersTo = (record: SessionRecord, paymentId: string): boolean => {
  let found = false
  forEachPaymentId(record, (id) => (found ||= id === paymentId))
  return found
}
