/**
 * A durable FIFO in a LevelDB sublevel: what must reach the cloud is written with sync:true
 * before anything else happens, so hours offline or a kill -9 lose nothing. Keys are a
 * zero-padded sequence, so LevelDB's order is delivery order and the sequence survives restarts.
 */
/** The part of a LevelDB sublevel (valueEncoding json) the outbox uses; `sync` reaches LevelDB. */
export interface OutboxDb {
  batch(operations: Array<{ type: 'put'; key: string; value: unknown } | { type: 'del'; key: string }>, options: { sync: boolean }): Promise<void>
  keys(options?: { lte?: string }): AsyncIterable<string>
  iterator(options?: { limit?: number }): AsyncIterable<[string, unknown]>
}

export interface OutboxEntry<T> {
  seq: number
  value: T
}

export interface Outbox<T> {
  append(values: readonly T[]): Promise<number[]>
  /** the oldest `limit` entries, in order */
  peek(limit: number): Promise<Array<OutboxEntry<T>>>
  /** removes every entry up to and including `seq` */
  ack(seq: number): Promise<void>
  size(): number
}

const key = (seq: number) => String(seq).padStart(16, '0')

export async function openOutbox<T>(db: OutboxDb): Promise<Outbox<T>> {
  let next = 1
  let count = 0
  for await (const k of db.keys()) {
    next = Number(k) + 1
    count++
  }
  // One chain: appends and acks never interleave their read-modify-write of `next`/`count`.
  let chain: Promise<unknown> = Promise.resolve()
  const serial = <R>(fn: () => Promise<R>): Promise<R> => {
    const run = chain.then(fn)
    chain = run.catch(() => undefined)
    return run
  }
  return {
    append: (values) =>
      serial(async () => {
        if (values.length === 0) return []
        const seqs = values.map((_, i) => next + i)
        await db.batch(
          values.map((value, i) => ({ type: 'put' as const, key: key(seqs[i]!), value })),
          { sync: true },
        )
        next += values.length
        count += values.length
        return seqs
      }),
    async peek(limit) {
      const out: Array<OutboxEntry<T>> = []
      for await (const [k, value] of db.iterator({ limit })) out.push({ seq: Number(k), value: value as T })
      return out
    },
    ack: (seq) =>
      serial(async () => {
        const keys: string[] = []
        for await (const k of db.keys({ lte: key(seq) })) keys.push(k)
        if (keys.length === 0) return
        await db.batch(
          keys.map((k) => ({ type: 'del' as const, key: k })),
          { sync: true },
        )
        count -= keys.length
      }),
    size: () => count,
  }
}
