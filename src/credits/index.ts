/**
 * createCredits: durable credits for minutes a running session lost (issue 11). The affected
 * module opens one when a session's bay cannot dispense and closes (issues) it when the bay
 * recovers, the session moves off it or ends; staff redeem by id, a later kiosk booking by code
 * (payments will take credits as a way to pay through `redeem`). Every change is one synced
 * batch on the `credits` sublevel with its audit entry (issued / redeemed) in the same batch.
 *
 * API (small on purpose): list, get, byCode, lostSeconds, open, close, redeem, start.
 */
import { randomInt } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import { err, ok, type Result } from '../lib/result.js'
import type { AuditLog, AuditOp } from '../audit/log.js'
import { actorLabel, SYSTEM, type Actor } from '../protocol/actor.js'
import { CREDIT_CODE_ALPHABET, type Credit, type CreditQuery } from '../protocol/affected.js'
import type { HubEvents } from '../protocol/events.js'
import { creditAt, issue, redeem, type CreditErrorCode } from './ledger.js'

export type { CreditErrorCode } from './ledger.js'

type Op = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string } | AuditOp

/** The part of a level sublevel (json values) the credits use. */
export interface CreditDb {
  batch(operations: Op[], options: { sync: boolean }): Promise<void>
  iterator(): AsyncIterable<[string, unknown]>
}

export interface CreditsDeps {
  /** `db.sublevel('credits', { valueEncoding: 'json' })` */
  db: CreditDb
  clock: Clock
  events: EventBus<HubEvents>
  log: Logger
  audit?: AuditLog
  /** HH:MM:SS in HUB_TIMEZONE, for refusal messages */
  fmt: (epochS: number) => string
}

export interface RedeemBy {
  credit_id?: number
  code?: string
}

export interface Credits {
  /** newest first, accruing ones counted up to now; bounded by `limit` (default 100, at most 500) */
  list(query?: CreditQuery): Credit[]
  get(creditId: number): Credit | undefined
  byCode(code: string): Credit | undefined
  /** seconds a session lost so far, over all its credits */
  lostSeconds(sessionId: number): number
  /** the credit accruing for (session, bay), if any */
  accruing(sessionId: number, machineId: number): Credit | undefined
  /** every accruing credit */
  open(): Credit[]
  /** Starts accruing lost time for (session, bay) from `fromS` (no-op if one is accruing). Durable when it resolves. */
  start(sessionId: number, machineId: number, reason: string, fromS: number): Promise<Credit>
  /** Stops accruing at `atS` and issues it (audit `credit.issued`); nothing lost -> dropped. */
  stop(sessionId: number, machineId: number, atS: number): Promise<Credit | undefined>
  /** Redeems an issued credit by id (staff) or code (a kiosk booking); audit `credit.redeemed`. */
  redeem(by: RedeemBy, actor: Actor, options?: { session_id?: number }): Promise<Result<Credit, CreditErrorCode>>
  load(): Promise<void>
  /** waits for queued writes */
  idle(): Promise<void>
}

const META = 'meta:next'
const creditKey = (id: number) => `c:${String(id).padStart(12, '0')}`
const MAX_LIST = 500

export function createCredits(deps: CreditsDeps): Credits {
  const { db, clock, events, log } = deps
  const nowS = () => clock.now() / 1000
  const byId = new Map<number, Credit>()
  const codes = new Map<string, number>()
  let next = 1
  // One writer: credit changes are few, so a promise chain keeps them in order without locks.
  let tail: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn)
    tail = run.catch(() => undefined)
    return run
  }

  const newCode = (): string => {
    for (;;) {
      let code = ''
      for (let i = 0; i < 10; i++) code += CREDIT_CODE_ALPHABET[randomInt(CREDIT_CODE_ALPHABET.length)]
      if (!codes.has(code)) return code
    }
  }

  const auditOps = (credit: Credit, kind: 'credit.issued' | 'credit.redeemed', actor: Actor, before: Credit | null): AuditOp[] =>
    deps.audit?.ops([
      {
        at: nowS(),
        actor: actorLabel(actor),
        kind,
        session_id: credit.session_id,
        machine_id: [credit.machine_id],
        before: before ? view(before) : null,
        after: view(credit),
      },
    ]) ?? []

  const write = async (ops: Op[], after: Credit | null, remove?: Credit) => {
    await db.batch(ops, { sync: true })
    if (remove) {
      byId.delete(remove.credit_id)
      codes.delete(remove.code)
    }
    if (after) {
      byId.set(after.credit_id, after)
      codes.set(after.code, after.credit_id)
    }
  }

  const accruing = (sessionId: number, machineId: number) => {
    for (const c of byId.values()) if (c.accruing && c.session_id === sessionId && c.machine_id === machineId) return c
    return undefined
  }

  return {
    list(query = {}) {
      const now = nowS()
      const limit = Math.min(Math.max(query.limit ?? 100, 1), MAX_LIST)
      return [...byId.values()]
        .filter((c) => query.session_id === undefined || c.session_id === query.session_id)
        .filter((c) => query.machine_id === undefined || c.machine_id === query.machine_id)
        .filter((c) => query.redeemed === undefined || c.redeemed === query.redeemed)
        .sort((a, b) => b.credit_id - a.credit_id)
        .slice(0, limit)
        .map((c) => creditAt(c, now))
    },
    get(id) {
      const c = byId.get(id)
      return c && creditAt(c, nowS())
    },
    byCode(code) {
      const id = codes.get(code)
      return id === undefined ? undefined : this.get(id)
    },
    lostSeconds(sessionId) {
      const now = nowS()
      let sum = 0
      for (const c of byId.values()) if (c.session_id === sessionId) sum += creditAt(c, now).lost_seconds
      return sum
    },
    accruing: (s, m) => accruing(s, m),
    open: () => [...byId.values()].filter((c) => c.accruing),
    start: (sessionId, machineId, reason, fromS) =>
      serial(async () => {
        const have = accruing(sessionId, machineId)
        if (have) return have
        const credit: Credit = {
          credit_id: next, code: newCode(), session_id: sessionId, machine_id: machineId, reason, from: fromS, to: null,
          lost_seconds: 0, minutes: 0, accruing: true, issued_at: null, redeemed: false, redeemed_at: null, redeemed_by: null, redeemed_for: null,
        }
        await write([{ type: 'put', key: creditKey(credit.credit_id), value: credit }, { type: 'put', key: META, value: { next: next + 1 } }], credit)
        next++
        log.info({ creditId: credit.credit_id, sessionId, machineId, reason }, 'credit accruing')
        events.emit('credit.changed', { change: 'accruing', credit })
        return credit
      }),
    stop: (sessionId, machineId, atS) =>
      serial(async () => {
        const have = accruing(sessionId, machineId)
        if (!have) return undefined
        const issued = issue(have, atS)
        if (!issued) {
          await write([{ type: 'del', key: creditKey(have.credit_id) }], null, have)
          return undefined
        }
        await write([{ type: 'put', key: creditKey(issued.credit_id), value: issued }, ...auditOps(issued, 'credit.issued', SYSTEM, null)], issued)
        log.info({ creditId: issued.credit_id, sessionId, machineId, minutes: issued.minutes }, 'credit issued')
        events.emit('credit.changed', { change: 'issued', credit: issued })
        return issued
      }),
    redeem: (by, actor, options = {}) =>
      serial(async () => {
        if (by.credit_id === undefined && by.code === undefined) return err('CREDIT_INVALID', 'code: a credit code (or, for staff, a credit id) is required', 'code')
        const id = by.credit_id ?? codes.get(by.code!)
        const credit = id === undefined ? undefined : byId.get(id)
        if (!credit || (by.code !== undefined && credit.code !== by.code)) {
          return err('CREDIT_NOT_FOUND', by.credit_id !== undefined ? `credit ${by.credit_id} does not exist` : 'code: no credit has this code')
        }
        const done = redeem(credit, actorLabel(actor), options.session_id ?? null, nowS(), deps.fmt)
        if (!done.ok) return done
        await write([{ type: 'put', key: creditKey(credit.credit_id), value: done.value }, ...auditOps(done.value, 'credit.redeemed', actor, credit)], done.value)
        log.info({ creditId: credit.credit_id, by: actorLabel(actor) }, 'credit redeemed')
        events.emit('credit.changed', { change: 'redeemed', credit: done.value })
        return ok(done.value)
      }),
    async load() {
      for await (const [key, value] of db.iterator()) {
        if (key === META) next = Math.max(next, Number((value as { next?: number })?.next ?? 1))
        else if (key.startsWith('c:') && value && typeof value === 'object') {
          const c = value as Credit
          byId.set(c.credit_id, c)
          codes.set(c.code, c.credit_id)
          next = Math.max(next, c.credit_id + 1)
        }
      }
    },
    idle: () => tail.then(() => undefined),
  }
}

function view(c: Credit): Record<string, unknown> {
  const { credit_id, session_id, machine_id, reason, from, to, lost_seconds, minutes, redeemed, redeemed_for } = c
  return { credit_id, session_id, machine_id, reason, from, to, lost_seconds, minutes, redeemed, redeemed_for }
}
