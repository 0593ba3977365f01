/**
 * issue 17: a sublevel's batch as the root database stores it (prefixed keys, encoded values),
 * so abstract-level walks it once with identity encodings, instead of encoding it in the sublevel
 * and again in the root for a sibling's operations (the audit log, the archive). Used by the
 * sessions' and the machines' stores; undefined when a sublevel is not utf8 keys and values (then
 * the batch goes through the sublevel as it is).
 */

/** What a sublevel says of itself to encode an operation for the root (abstract-level's public API). */
export interface EncodingSublevel {
  prefixKey(key: string, format: 'utf8'): string
  keyEncoding(): { format: string; encode(key: unknown): unknown }
  valueEncoding(): { format: string; encode(value: unknown): unknown }
}

export type RootOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string }

/** The root database's batch with utf8 keys and values. */
export interface RootBatchDb {
  batch(operations: RootOp[], options: { sync: boolean; keyEncoding: 'utf8'; valueEncoding: 'utf8' }): Promise<void>
}

type AnyOp = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string }

export function encodeForRoot(ops: readonly AnyOp[], own: EncodingSublevel): RootOp[] | undefined {
  const out: RootOp[] = []
  for (const op of ops) {
    const sub = ((op as { sublevel?: unknown }).sublevel as EncodingSublevel | undefined) ?? own
    if (typeof sub.prefixKey !== 'function') return undefined
    const keys = sub.keyEncoding()
    if (keys.format !== 'utf8') return undefined
    const key = sub.prefixKey(keys.encode(op.key) as string, 'utf8')
    if (op.type === 'del') {
      out.push({ type: 'del', key })
      continue
    }
    const values = sub.valueEncoding()
    if (values.format !== 'utf8') return undefined
    out.push({ type: 'put', key, value: values.encode(op.value) as string })
  }
  return out
}

/** The root of `db` when it is a sublevel whose batches can go there pre-encoded. */
export function rootOf(db: unknown): { root: RootBatchDb; own: EncodingSublevel } | undefined {
  const s = db as { db?: Partial<RootBatchDb> } & Partial<EncodingSublevel>
  if (!s || typeof s.db?.batch !== 'function' || typeof s.prefixKey !== 'function' || typeof s.keyEncoding !== 'function' || typeof s.valueEncoding !== 'function') return undefined
  return { root: s.db as RootBatchDb, own: s as EncodingSublevel }
}
