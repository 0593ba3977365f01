/**
 * Durable machine state in the hub's 'machines' sublevel (RULES §8). Every write is one
 * batch with sync: true; saves queued while a batch is being written are grouped into the
 * next one (group commit), and each machine is written once per batch with its latest state.
 */
import type { MachineRecord } from './record.js'

/** The part of a level sublevel (json values) the store uses. */
export interface MachineDb {
  batch(operations: Array<{ type: 'put'; key: string; value: unknown }>, options: { sync: boolean }): Promise<void>
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
  /** Resolves when `record` (as passed now) is durable. */
  save(record: MachineRecord): Promise<void>
  /** Resolves when the exchange-id reservation is durable. */
  reserveExchangeIds(until: number): Promise<void>
  /** Waits for queued writes. */
  flush(): Promise<void>
}

interface Batch {
  records: Map<number, MachineRecord>
  exchange: number | null
  done: Promise<void>
}

export function createMachineStore(db: MachineDb): MachineStore {
  let tail: Promise<void> = Promise.resolve()
  let open: Batch | null = null

  const write = async (b: Batch) => {
    if (open === b) open = null
    const ops: Array<{ type: 'put'; key: string; value: unknown }> = [...b.records.values()].map((r) => ({ type: 'put', key: machineKey(r.machine_id), value: r }))
    if (b.exchange !== null) ops.push({ type: 'put', key: META_EXCHANGE, value: { reserved_until: b.exchange } })
    if (ops.length > 0) await db.batch(ops, { sync: true })
  }

  const batch = (): Batch => {
    if (open) return open
    const b: Batch = { records: new Map(), exchange: null, done: Promise.resolve() }
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
    save(record) {
      const b = batch()
      b.records.set(record.machine_id, structuredClone(record))
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
