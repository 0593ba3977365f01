/**
 * Durable machine state in the hub's 'machines' sublevel (RULES §8). Every write is one
 * batch with sync: true; saves queued while a batch is being written are grouped into the
 * next one (group commit), and each machine is written once per batch with its latest state.
 * A save may carry audit operations (src/audit `ops`): they go in the same batch as the record,
 * so an override and its audit entry are on disk together or not at all (issue 13).
 */
import type { AuditOp } from '../audit/log.js'
import { encodeForRoot, rootOf } from '../lib/root-batch.js'
import type { MachineRecord } from './record.js'

type PutOp = { type: 'put'; key: string; value: unknown }

/** The part of a level sublevel (json values) the store uses. */
export interface MachineDb {
  batch(operations: Array<PutOp | AuditOp>, options: { sync: boolean }): Promise<void>
  iterator(): AsyncIterable<[string, unknown]>
}

const META_EXCHANGE = 'meta:exchange'
const machineKey = (id: number) => `machine:${String(id).padStart(6, '0')}`

export interface Loaded {
  records: MachineRecord[]
  exchangeReservedUntil: number | undefined
}

export interface MachineStore {
  load(): Promise<Loaded>
  /**
   * Resolves when `record` and `audit` (its audit entries) are durable, in one batch. `record` is
   * a snapshot the caller no longer changes (the machine table passes a copy): it is written as
   * it is when its batch goes out.
   */
  save(record: MachineRecord, audit?: readonly AuditOp[]): Promise<void>
  /** Resolves when the exchange-id reservation is durable. */
  reserveExchangeIds(until: number): Promise<void>
  /** Waits for queued writes. */
  flush(): Promise<void>
}

interface Batch {
  records: Map<number, MachineRecord>
  audit: AuditOp[]
  exchange: number | null
  done: Promise<void>
}

export function createMachineStore(db: MachineDb): MachineStore {
  let tail: Promise<void> = Promise.resolve()
  let open: Batch | null = null
  // issue 17: the batch goes to the root pre-encoded (src/lib/root-batch.ts), as the sessions'
  // does: one walk with identity encodings, not one in this sublevel and one more in the root
  // for the audit log's operations (a changeover writes ~1,000 records at once).
  const root = rootOf(db)

  const write = async (b: Batch) => {
    if (open === b) open = null
    const ops: Array<PutOp | AuditOp> = [...b.records.values()].map((r) => ({ type: 'put', key: machineKey(r.machine_id), value: r }))
    if (b.exchange !== null) ops.push({ type: 'put', key: META_EXCHANGE, value: { reserved_until: b.exchange } })
    ops.push(...b.audit)
    if (ops.length === 0) return
    const encoded = root && encodeForRoot(ops, root.own)
    if (encoded) await root.root.batch(encoded, { sync: true, keyEncoding: 'utf8', valueEncoding: 'utf8' })
    else await db.batch(ops, { sync: true })
  }

  const batch = (): Batch => {
    if (open) return open
    const b: Batch = { records: new Map(), audit: [], exchange: null, done: Promise.resolve() }
    b.done = tail.then(() => write(b))
    tail = b.done.catch(() => undefined)
    open = b
    return b
  }

  return {
    async load() {
      const records: MachineRecord[] = []
      let exchangeReservedUntil: number | undefined
      for await (const [key, value] of db.iterator()) {
        if (key === META_EXCHANGE) exchangeReservedUntil = (value as { reserved_until?: number })?.reserved_until
        else if (key.startsWith('machine:') && value && typeof value === 'object') records.push(value as MachineRecord)
      }
      return { records, exchangeReservedUntil }
    },
    save(record, audit = []) {
      const b = batch()
      b.records.set(record.machine_id, record)
      b.audit.push(...audit)
      return b.done
    },
    reserveExchangeIds(until) {
      const b = batch()
      b.exchange = Math.max(b.exchange ?? 0, until)
      return b.done
    },
    flush: () => tail,
  }
}
