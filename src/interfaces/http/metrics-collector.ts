/**
 * Counts what Machines.stats() does not keep: confirmation latencies as a histogram and
 * bad inputs (DESIGN §4 "counted in metrics"), both from hub events.
 */
import type { EventBus } from '../../lib/event-bus.js'
import type { HubEvents } from '../../protocol/events.js'

/** ms; a healthy LAN round trip is a few ms, the retry timeout is 2 s (DESIGN §5). */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000] as const

export interface MetricsCollector {
  latency: { buckets: readonly number[]; counts: number[]; sum: number; count: number }
  /** bad inputs by topic */
  rejected: Map<string, number>
  stop(): void
}

const OWNER = 'http-metrics'

export function createMetricsCollector(events: EventBus<HubEvents>): MetricsCollector {
  const collector: MetricsCollector = {
    latency: { buckets: LATENCY_BUCKETS_MS, counts: LATENCY_BUCKETS_MS.map(() => 0), sum: 0, count: 0 },
    rejected: new Map(),
    stop: () => events.off(OWNER),
  }
  events.on('command.confirmed', OWNER, ({ latencyMs }) => {
    const h = collector.latency
    h.count++
    h.sum += latencyMs
    h.buckets.forEach((le, i) => {
      if (latencyMs <= le) h.counts[i] = (h.counts[i] ?? 0) + 1
    })
  })
  events.on('input.rejected', OWNER, ({ topic }) => {
    collector.rejected.set(topic, (collector.rejected.get(topic) ?? 0) + 1)
  })
  return collector
}
