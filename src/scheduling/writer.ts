/**
 * The one writer (STYLE §2.4): every mutation is a synchronous step queued here. Steps run one
 * after another against a Tx, so "check, then write" cannot interleave. Steps that queue up
 * while a batch is being written are taken together next time: their changes go to LevelDB in
 * one synced batch (group commit), then their events are emitted in order, then each caller
 * is answered. Nobody hears of a change before it is durable (DESIGN §5). Once a batch is durable
 * and in the index, the next batch is planned and its write started before the first one is
 * announced, so the disk syncs while the event loop answers.
 */
import type { Logger } from 'pino'
import type { SessionChange } from '../protocol/events.js'
import type { Actor } from '../protocol/actor.js'
import type { AuditOp } from '../audit/log.js'
import type { SessionRecord } from '../protocol/messages.js'
import type { KeyMemory } from './idempotency.js'
import { createTx, type SessionIndex, type Tx } from './session-index.js'
import type { SessionStore } from './store.js'

export interface ChangeEvent {
  change: SessionChange
  session: SessionRecord
  previous?: SessionRecord
  /** who made the change (audit); lifecycle steps have none */
  actor?: Actor
  reason?: string
}

/** A step sees the Tx and reports the events its changes cause. */
export type Step<T> = (tx: Tx, emit: (event: ChangeEvent) => void) => T

interface Job {
  step: Step<unknown>
  afterDeliveries: RunOptions['afterDeliveries'] | null
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

export interface WriterDeps {
  index: SessionIndex
  /** remembered idempotency keys; written with the sessions they answered */
  keys: KeyMemory
  /** ids of keys past their retention, dropped in the next batch */
  expiredKeys?: () => string[]
  store: SessionStore
  log: Logger
  /** called with each event after the durable write, in order */
  publish: (event: ChangeEvent) => void
  /** largest number of queued steps written in one batch */
  maxBatch?: number | undefined
  /** the audit operations recording these events (written in the same batch) */
  auditOps?: ((events: readonly ChangeEvent[]) => AuditOp[]) | undefined
}

export interface RunOptions {
  /**
   * Controls were just handed to the broker: build this batch only once they are on the sockets,
   * so no dispenser's control waits behind the batch's planning, encoding and sync (issue 17).
   * A promise: when it settles (at most DELIVERIES_WAIT_MS: a dispenser whose socket is full
   * must not hold the schedule's write); true: one timer turn (the broker's first deliveries are
   * immediates).
   */
  afterDeliveries?: boolean | Promise<unknown>
}

/** The longest a batch waits for the controls of its transition to reach their sockets. */
export const DELIVERIES_WAIT_MS = 1000

/**
 * One timer turn, or until every promise settled (at most DELIVERIES_WAIT_MS). Real timers on
 * purpose, not the injected Clock: the turn orders work on the event loop, and the cap bounds how
 * long a socket that does not drain may hold the write; neither is schedule time.
 */
function deliveries(waits: ReadonlyArray<true | Promise<unknown>>): Promise<void> {
  const promises = waits.filter((w): w is Promise<unknown> => w !== true)
  if (promises.length === 0) return new Promise((resolve) => setTimeout(resolve, 1))
  return new Promise((resolve) => {
    const cap = setTimeout(resolve, DELIVERIES_WAIT_MS)
    void Promise.allSettled(promises).then(() => {
      clearTimeout(cap)
      resolve()
    })
  })
}

export interface Writer {
  run<T>(step: Step<T>, options?: RunOptions): Promise<T>
  /** resolves when the queue is empty */
  idle(): Promise<void>
  stats(): { batches: number; steps: number }
}

export function createWriter({ index, keys, expiredKeys, store, log, publish, maxBatch = 256, auditOps }: WriterDeps): Writer {
  const queue: Job[] = []
  let draining: Promise<void> | null = null
  let batches = 0
  let steps = 0

  /** How much a Tx holds to write or do: a step that leaves it unchanged changed nothing. */
  const changesIn = (tx: Tx) => tx.writes.size + tx.keyWrites.size + tx.archives.size + tx.extraOps.length + tx.afterCommit.length
  const settle = (job: Job, outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => {
    if (outcome.ok) job.resolve(outcome.value)
    else job.reject(outcome.error)
  }

  /**
   * Plans and durably writes one batch, then applies it to the index. Resolves with what is left
   * to do, announcing it (events, then answers); nothing when the write failed (callers told).
   *
   * issue 17: a step that changed nothing, emitted nothing and read nothing this batch changed (a
   * refused booking, a repeat) was decided on durable state alone: its caller need not wait for
   * this batch's sync. Its answer goes to `early`, which gives it out once the batch before is
   * announced (so a caller hears of its earlier change first), not after this batch's write.
   */
  const commit = async (jobs: Job[], early: (answer: () => void) => void = (answer) => answer()): Promise<(() => void) | undefined> => {
    const waits = jobs.flatMap((job) => (job.afterDeliveries === true || job.afterDeliveries instanceof Promise ? [job.afterDeliveries] : []))
    if (waits.length > 0) await deliveries(waits)
    const tx = createTx(index, keys)
    const events: ChangeEvent[] = []
    const answered = new Set<number>()
    const outcomes = jobs.map((job, i) => {
      const before = changesIn(tx)
      const eventsBefore = events.length
      const calendarBefore = tx.calendar
      tx.readPending = calendarBefore !== undefined
      let outcome: { ok: true; value: unknown } | { ok: false; error: unknown }
      try {
        outcome = { ok: true as const, value: job.step(tx, (e) => events.push(e)) }
      } catch (error) {
        outcome = { ok: false as const, error }
      }
      if (!tx.readPending && changesIn(tx) === before && events.length === eventsBefore && tx.calendar === calendarBefore) answered.add(i)
      return outcome
    })
    if (answered.size > 0) early(() => answered.forEach((i) => settle(jobs[i]!, outcomes[i]!)))
    const entries = [...tx.writes.values()]
    const archive = [...tx.archives.values()]
    const remember = [...tx.keyWrites.values()]
    // Expired keys leave only with a batch that writes anyway: housekeeping never costs a sync of its own.
    const forget = entries.length + remember.length + tx.extraOps.length > 0 ? (expiredKeys?.() ?? []).filter((id) => !tx.keyWrites.has(id)) : []
    try {
      // The audit entries go in the same synced batch as the sessions they record.
      await store.write({ sessions: entries, remember, forget, audit: [...(auditOps?.(events) ?? []), ...tx.extraOps], archive })
    } catch (error) {
      // Nothing of this batch is committed: the index is untouched and every caller hears the failure.
      log.error({ err: error, steps: jobs.length }, 'session write failed')
      jobs.forEach((job, i) => answered.has(i) || job.reject(error))
      return undefined
    }
    for (const entry of entries) index.put(entry)
    for (const entry of archive) index.remove(entry.record.session_id)
    for (const fn of tx.afterCommit) fn()
    keys.forget(forget)
    for (const entry of remember) keys.put(entry)
    batches++
    steps += jobs.length
    return () => {
      for (const event of events) {
        // The batch is durable: a failing listener must not keep its callers (or the next batch) waiting.
        try {
          publish(event)
        } catch (error) {
          log.error({ err: error, change: event.change, sessionId: event.session.session_id }, 'announcing a session change failed')
        }
      }
      jobs.forEach((job, i) => answered.has(i) || settle(job, outcomes[i]!))
    }
  }

  const drain = async () => {
    try {
      let announce = await commit(queue.splice(0, maxBatch))
      while (announce) {
        // The next batch is planned against the index that now holds this one, and its synced
        // write starts before this batch's events and answers go out: the disk is not idle while
        // the event loop announces (issue 17). Nothing is announced before it is durable, and
        // batches are announced in order; the next batch's early answers come after this one's.
        let announced = false
        let waiting: (() => void) | undefined
        const next = queue.length > 0 ? commit(queue.splice(0, maxBatch), (answer) => (announced ? answer() : (waiting = answer))) : undefined
        announce()
        announced = true
        waiting?.()
        announce = next ? await next : undefined
        // A failed batch announced nothing; what queued meanwhile still gets its own batch.
        if (!announce && next && queue.length > 0) announce = await commit(queue.splice(0, maxBatch))
      }
    } finally {
      draining = null
    }
    // Steps queued while the last batch was announced (a reply that books again at once).
    if (queue.length > 0) draining ??= drain()
  }

  return {
    run<T>(step: Step<T>, options: RunOptions = {}) {
      return new Promise<T>((resolve, reject) => {
        queue.push({ step, afterDeliveries: options.afterDeliveries ?? null, resolve: resolve as (v: unknown) => void, reject })
        draining ??= drain()
      })
    },
    async idle() {
      while (draining) await draining
    },
    stats: () => ({ batches, steps }),
  }
}
