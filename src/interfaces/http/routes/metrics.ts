/**
 * GET /metrics in Prometheus text format (DESIGN §6). Admin role only: it lists the state of
 * every bay and the booking volume, and kiosks share the venue LAN. Prometheus sends the token
 * with `authorization: { type: Bearer, credentials: <admin token> }` in its scrape config.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { RouteContext } from '../deps.js'
import { dayBounds } from '../../../scheduling/index.js'
import type { MetricsCollector } from '../metrics-collector.js'
import type { EventLoopDelay } from '../event-loop-delay.js'
import { authErrors } from '../schemas.js'

interface MetricsOptions extends RouteContext {
  collector: MetricsCollector
  feedClients: () => number
  loopDelay: EventLoopDelay
}

type Sample = [labels: string, value: number]

function family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string, samples: Sample[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`]
  for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`)
  return lines.join('\n')
}

const label = (name: string, value: string) => `{${name}="${value.replace(/["\\\n]/g, '_')}"}`

export function renderMetrics(ctx: MetricsOptions): string {
  const machines = ctx.machines.list()
  const stats = ctx.machines.stats()
  const byStatus = new Map<string, number>()
  for (const m of machines) byStatus.set(m.status, (byStatus.get(m.status) ?? 0) + 1)
  const { from, to } = dayBounds(ctx.config.timezone, ctx.today())
  const sessions = new Map<string, number>()
  for (const s of ctx.scheduling.list({ from, to })) sessions.set(s.status, (sessions.get(s.status) ?? 0) + 1)
  const h = ctx.collector.latency
  const grid = ctx.scheduling.gridStats()
  const histogram: Sample[] = h.buckets.map((le, i) => [`{le="${le}"}`, h.counts[i] ?? 0])
  histogram.push(['{le="+Inf"}', h.count])
  const loop = ctx.loopDelay.read()
  const parts = [
    family('dispenser_machines', 'gauge', 'Machines served by the hub', [['', machines.length]]),
    family('dispenser_machines_online', 'gauge', 'Machines connected to the broker', [['', stats.online]]),
    family('dispenser_machines_by_status', 'gauge', 'Machines by effective status', [...byStatus].map(([s, n]) => [label('status', s), n])),
    family('dispenser_commands_sent_total', 'counter', 'Machine commands sent (each try)', [['', stats.commandsSent]]),
    family('dispenser_commands_confirmed_total', 'counter', 'Machine commands confirmed by the dispenser', [['', stats.commandsConfirmed]]),
    family('dispenser_commands_failed_total', 'counter', 'Machine commands given up after all retries', [['', stats.commandsFailed]]),
    family('dispenser_command_confirmation_ms', 'histogram', 'Time from command to Confirmation', [
      ...histogram.map(([l, v]): Sample => [`_bucket${l}`, v]),
      ['_sum', Math.round(h.sum * 1000) / 1000],
      ['_count', h.count],
    ]),
    family('dispenser_sessions_today', 'gauge', 'Sessions overlapping today (HUB_TIMEZONE) by status', [...sessions].map(([s, n]) => [label('status', s), n])),
    family('dispenser_alerts_open', 'gauge', 'Alerts not cleared', [['', ctx.machines.alerts().filter((a) => a.cleared_at === null).length]]),
    family('dispenser_bad_input_total', 'counter', 'Rejected MQTT inputs by topic (DESIGN §4)', [...ctx.collector.rejected].map(([t, n]) => [label('topic', t), n])),
    family('dispenser_live_feed_clients', 'gauge', 'Open WebSocket live-feed connections', [['', ctx.feedClients()]]),
    family('dispenser_schedule_grids_built_total', 'counter', 'Schedule grids built (a date is rebuilt only after a session on it changed)', [['', grid.builds]]),
    family('dispenser_event_loop_delay_ms', 'gauge', 'Event-loop delay since the previous scrape (p50, p99, max)', [
      ['{quantile="0.5"}', loop.p50Ms],
      ['{quantile="0.99"}', loop.p99Ms],
      ['{quantile="1"}', loop.maxMs],
    ]),
    family('dispenser_schedule_grids_cached_total', 'counter', 'Schedule requests (HTTP and MQTT) answered from the grid cache', [['', grid.hits]]),
  ]
  const extra = ctx.metrics?.().trim()
  return parts.join('\n') + '\n' + (extra ? extra + '\n' : '')
}

export const metricsRoutes: FastifyPluginAsyncTypebox<MetricsOptions> = async (app, ctx) => {
  app.get(
    '/metrics',
    {
      onRequest: ctx.guard('metrics.read'),
      schema: { tags: ['health'], summary: 'Prometheus metrics (monitor or admin token, managers)', security: [{ bearer: [] }], response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }), ...authErrors } },
    },
    (_request, reply) => {
      reply.type('text/plain; version=0.0.4; charset=utf-8')
      return renderMetrics(ctx)
    },
  )
}
