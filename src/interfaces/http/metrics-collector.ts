/**
 * What /metrics reads from the hub's state at each scrape (machines, today's sessions, alerts,
 * the live feed, the schedule-grid cache), and the bad-input counter
 * (DESIGN §4 "counted in metrics") from `input.rejected` events. Families only: the metrics
 * module (src/metrics) turns them into Prometheus text.
 */
import type { EventBus } from '../../lib/event-bus.js'
import type { MetricFamily } from '../../metrics/index.js'
import type { HubEvents } from '../../protocol/events.js'
import { dayBounds } from '../../scheduling/index.js'
import type { RouteContext } from './deps.js'

export interface HttpMetricsSources {
  ctx: Pick<RouteContext, 'machines' | 'scheduling' | 'config' | 'today'>
  events: EventBus<HubEvents>
  feedClients: () => number
}

export interface MetricsCollector {
  families: MetricFamily[]
  stop(): void
}

const OWNER = 'http-metrics'

/** [label set, count] per distinct value of `key` */
function countBy<T>(items: Iterable<T>, label: string, key: (item: T) => string): Array<[Record<string, string>, number]> {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return [...counts].map(([value, n]) => [{ [label]: value }, n])
}

export function createMetricsCollector({ ctx, events, feedClients }: HttpMetricsSources): MetricsCollector {
  const rejected = new Map<string, number>()
  events.on('input.rejected', OWNER, ({ topic }) => {
    rejected.set(topic, (rejected.get(topic) ?? 0) + 1)
  })
  const gauge = (name: string, help: string, read: MetricFamily['read'], labelNames?: string[]): MetricFamily => ({ name, help, type: 'gauge', read, ...(labelNames && { labelNames }) })
  const counter = (name: string, help: string, read: MetricFamily['read'], labelNames?: string[]): MetricFamily => ({ name, help, type: 'counter', read, ...(labelNames && { labelNames }) })
  const stats = () => ctx.machines.stats()
  const families = [
    gauge('dispenser_machines', 'Machines served by the hub', () => ctx.machines.list().length),
    gauge('dispenser_machines_online', 'Machines connected to the broker', () => stats().online),
    gauge('dispenser_machines_by_status', 'Machines by effective status', () => countBy(ctx.machines.list(), 'status', (m) => m.status), ['status']),
    counter('dispenser_commands_sent_total', 'Machine commands sent (each try)', () => stats().commandsSent),
    counter('dispenser_commands_confirmed_total', 'Machine commands confirmed by the dispenser', () => stats().commandsConfirmed),
    counter('dispenser_commands_failed_total', 'Machine commands given up after all retries', () => stats().commandsFailed),
    gauge('dispenser_sessions_today', 'Sessions overlapping today (HUB_TIMEZONE) by status', () => {
      const { from, to } = dayBounds(ctx.config.timezone, ctx.today())
      return countBy(ctx.scheduling.list({ from, to }), 'status', (s) => s.status)
    }, ['status']),
    gauge('dispenser_alerts_open', 'Alerts not cleared', () => ctx.machines.alerts().filter((a) => a.cleared_at === null).length),
    counter('dispenser_bad_input_total', 'Rejected MQTT inputs by topic (DESIGN §4)', () => [...rejected].map(([topic, n]) => [{ topic }, n] as const), ['topic']),
    gauge('dispenser_live_feed_clients', 'Open WebSocket live-feed connections', feedClients),
    // issue 17: how well group commit groups (steps / batches: changes per synced LevelDB write)
    counter('dispenser_session_write_batches_total', 'Session writer batches (each one synced LevelDB write when it holds a change)', () => ctx.scheduling.stats?.().batches ?? 0),
    counter('dispenser_session_write_steps_total', 'Changes and lifecycle steps the session writer ran (steps / batches = changes per synced write)', () => ctx.scheduling.stats?.().steps ?? 0),
    counter('dispenser_schedule_grids_built_total', 'Schedule grids built (a date is rebuilt only after a session on it changed)', () => ctx.scheduling.gridStats().builds),
    counter('dispenser_schedule_grids_cached_total', 'Schedule requests (HTTP and MQTT) answered from the grid cache', () => ctx.scheduling.gridStats().hits),
  ]
  return { families, stop: () => events.off(OWNER) }
}
