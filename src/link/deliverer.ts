/**
 * Drains an outbox in order through `send`, one batch at a time; a failed batch is retried with
 * capped exponential backoff and jitter on the injected clock, and is deleted only after `send`
 * succeeds. Delivery is at least once: receivers de-duplicate by the entries' stable ids.
 */
import type { Clock } from '../lib/clock.js'
import type { Outbox, OutboxEntry } from './outbox.js'

export interface DeliveryStatus {
  backlog: number
  delivered: number
  lastSuccess: number | null
  lastError: string | null
  lastErrorAt: number | null
  retryInMs: number | null
}

export interface DelivererOptions<T> {
  outbox: Outbox<T>
  clock: Clock
  send: (entries: Array<OutboxEntry<T>>) => Promise<void>
  batchSize?: number
  baseDelayMs?: number
  maxDelayMs?: number
  random?: () => number
  /** false while the transport is known to be down (the bridge's connection) */
  ready?: () => boolean
}

export interface Deliverer {
  /** something was appended or the transport came back: deliver now */
  kick(): void
  status(): DeliveryStatus
  stop(): void
}

export function createDeliverer<T>(options: DelivererOptions<T>): Deliverer {
  const { outbox, clock, send, batchSize = 100, baseDelayMs = 1000, maxDelayMs = 5 * 60_000, random = Math.random } = options
  const ready = options.ready ?? (() => true)
  let running = false
  let stopped = false
  let failures = 0
  let cancelRetry: (() => void) | undefined
  const status: DeliveryStatus = { backlog: 0, delivered: 0, lastSuccess: null, lastError: null, lastErrorAt: null, retryInMs: null }

  const drain = async () => {
    if (running || stopped || !ready()) return
    running = true
    try {
      for (;;) {
        const batch = await outbox.peek(batchSize)
        if (batch.length === 0 || stopped || !ready()) break
        await send(batch)
        await outbox.ack(batch.at(-1)!.seq)
        failures = 0
        status.delivered += batch.length
        status.lastSuccess = clock.now() / 1000
        status.retryInMs = null
      }
    } catch (error) {
      failures++
      status.lastError = (error as Error).message
      status.lastErrorAt = clock.now() / 1000
      // capped exponential backoff with full jitter in [delay/2, delay]
      const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - 1, 20))
      status.retryInMs = Math.round(delay / 2 + (random() * delay) / 2)
      cancelRetry?.()
      cancelRetry = clock.setTimeout(() => {
        cancelRetry = undefined
        void drain()
      }, status.retryInMs)
    } finally {
      running = false
    }
  }

  return {
    kick() {
      if (cancelRetry) return // a retry is scheduled; respect the backoff
      void drain()
    },
    status: () => ({ ...status, backlog: outbox.size() }),
    stop() {
      stopped = true
      cancelRetry?.()
    },
  }
}
