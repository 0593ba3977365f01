/**
 * The durable price table (issue 12): one LevelDB entry (`prices` sublevel, key `table`), replaced
 * whole by PUT /api/prices, written with `sync: true` together with its audit entry in one batch.
 * Until a table is saved nothing is charged (kiosk bookings are not held).
 */
import type { AuditLog } from '../audit/log.js'
import type { Actor } from '../protocol/actor.js'
import { actorLabel } from '../protocol/actor.js'
import type { Money, PriceTable, StoredPriceTable } from '../protocol/payments.js'
import { ok, type Result } from '../lib/result.js'
import { checkPriceTable, quote, type PriceErrorCode, type PriceRules } from './prices.js'

const KEY = 'table'

/** The part of a level sublevel (json values) the price book uses. */
export interface PriceDb {
  get(key: string): Promise<unknown>
  batch(operations: Array<{ type: 'put'; key: string; value: unknown }>, options: { sync: boolean }): Promise<void>
}

export interface PriceBook {
  load(): Promise<void>
  /** the table (currency HUB_CURRENCY and no bands until one is saved) */
  get(): StoredPriceTable
  /** true once a table is saved: bookings are priced */
  active(): boolean
  put(table: PriceTable, actor: Actor, reason?: string): Promise<Result<StoredPriceTable, PriceErrorCode>>
  /** the quote for some bays and an interval; null while no table is saved */
  quote(booking: { machine_id: readonly number[]; start_time: number; end_time: number }): Money | null
}

export interface PriceBookDeps {
  db: PriceDb
  rules: PriceRules
  currency: string
  audit?: AuditLog | undefined
  nowS: () => number
}

export function createPriceBook({ db, rules, currency, audit, nowS }: PriceBookDeps): PriceBook {
  let table: StoredPriceTable | null = null
  // One change at a time, so the audit entry's `before` is the table it replaced.
  let queue: Promise<unknown> = Promise.resolve()

  const empty = (): StoredPriceTable => ({ currency, bands: [], updated_at: null, updated_by: null })

  return {
    async load() {
      const stored = (await db.get(KEY).catch(() => undefined)) as StoredPriceTable | undefined
      table = stored && typeof stored === 'object' && Array.isArray(stored.bands) ? stored : null
    },
    get: () => table ?? empty(),
    active: () => table !== null,
    put(next, actor, reason) {
      const run = async (): Promise<Result<StoredPriceTable, PriceErrorCode>> => {
        const checked = checkPriceTable(next, rules)
        if (!checked.ok) return checked
        const at = nowS()
        const stored: StoredPriceTable = { ...next, updated_at: at, updated_by: actorLabel(actor) }
        const before = table
        const entry = {
          at,
          actor: actorLabel(actor),
          kind: 'prices.changed' as const,
          before: before ? { currency: before.currency, bands: before.bands, bay_classes: before.bay_classes ?? {} } : null,
          after: { currency: next.currency, bands: next.bands, bay_classes: next.bay_classes ?? {} },
          ...(reason !== undefined && { reason }),
        }
        // The table and its audit entry: one synced batch, both or neither (an I/O failure throws).
        await db.batch([{ type: 'put', key: KEY, value: stored }, ...((audit?.ops([entry]) ?? []) as never[])], { sync: true })
        table = stored
        return ok(stored)
      }
      const result = queue.then(run, run)
      queue = result.catch(() => undefined)
      return result
    },
    quote: (booking) => (table ? quote(table, booking, rules) : null),
  }
}
