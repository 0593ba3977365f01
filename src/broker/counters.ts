/**
 * What the broker refused or dropped, by reason, for /metrics (Prometheus text). Reasons are a
 * fixed set chosen by the code, never client text, so the label cardinality stays bounded.
 */
export const CounterHelp = {
  dispenser_mqtt_refused_connections_total: 'MQTT CONNECTs refused, by reason',
  dispenser_mqtt_closed_connections_total: 'MQTT connections closed for a protocol or size violation, by reason',
  dispenser_mqtt_dropped_total: 'MQTT publishes acknowledged and dropped, by reason',
} as const

export type CounterName = keyof typeof CounterHelp

export interface BrokerCounters {
  inc(name: CounterName, reason: string): void
  get(name: CounterName, reason: string): number
  /** Prometheus text, one family per counter */
  render(): string
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
    render() {
      const lines: string[] = []
      for (const [name, help] of Object.entries(CounterHelp) as Array<[CounterName, string]>) {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`)
        for (const [reason, n] of counts.get(name) ?? []) lines.push(`${name}{reason="${reason}"} ${n}`)
      }
      return lines.join('\n') + '\n'
    },
  }
}
