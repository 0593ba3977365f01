/**
 * What the broker refused or dropped, by reason, for /metrics. Reasons are a fixed set chosen by
 * the code, never client text, so the label cardinality stays bounded. Plain counts here; the
 * metrics module reads them at each scrape (`families`).
 */
import type { MetricFamily } from '../metrics/index.js'

export const CounterHelp = {
  dispenser_mqtt_refused_connections_total: 'MQTT CONNECTs refused, by reason',
  dispenser_mqtt_closed_connections_total: 'MQTT connections closed for a protocol or size violation, by reason',
  dispenser_mqtt_dropped_total: 'MQTT publishes acknowledged and dropped, by reason',
} as const

export type CounterName = keyof typeof CounterHelp

export interface BrokerCounters {
  inc(name: CounterName, reason: string): void
  get(name: CounterName, reason: string): number
  /** one counter family per name, label `reason` */
  families(): MetricFamily[]
}

export function createCounters(): BrokerCounters {
  const counts = new Map<CounterName, Map<string, number>>()
  return {
    inc(name, reason) {
      const family = counts.get(name) ?? new Map<string, number>()
      family.set(reason, (family.get(reason) ?? 0) + 1)
      counts.set(name, family)
    },
    get: (name, reason) => counts.get(name)?.get(reason) ?? 0,
    families: () =>
      (Object.entries(CounterHelp) as Array<[CounterName, string]>).map(([name, help]) => ({
        name,
        help,
        type: 'counter' as const,
        labelNames: ['reason'],
        read: () => [...(counts.get(name) ?? [])].map(([reason, n]) => [{ reason }, n] as const),
      })),
  }
}
