/**
 * createLink: the cloud link (DESIGN §1, §8), offline-first. Each part is on only when its
 * setting is: reservation sync (HUB_CLOUD_URL, HUB_WEBHOOK_SECRET), event uplink
 * (HUB_UPLINK_URL), bridge (HUB_BRIDGE_URL). Nothing here is on the path of a booking or a
 * command: the range works the same with the internet gone.
 */
import type { Logger } from 'pino'
import type { BrokerPort } from '../broker/port.js'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import type { HubEvents } from '../protocol/events.js'
import type { ReservationOutcome } from '../protocol/cloud.js'
import type { Scheduling } from '../scheduling/types.js'
import type { MetricFamily } from '../metrics/index.js'
import type { Bridge, BridgedMessage } from './bridge.js'
import { openOutbox, type OutboxDb } from './outbox.js'
import { createReservationSync, type ReservationSync } from './reservations.js'
import { createUplink } from './uplink.js'
import { reservationWebhook } from './webhook.js'

export interface LinkDb {
  sublevel(name: string, options: { valueEncoding: 'json' }): OutboxDb & ReservationStateDb
}
type ReservationStateDb = { get(key: string): Promise<unknown>; put(key: string, value: unknown, options: { sync: boolean }): Promise<void> }

export interface LinkDeps {
  config: Config
  clock: Clock
  log: Logger
  events: EventBus<HubEvents>
  scheduling: Scheduling
  broker: BrokerPort
  /** the hub's state database; the link keeps its outboxes and cursor in sublevels of it */
  db: LinkDb
  /** first retry delay of every delivery loop (tests shorten it) */
  baseDelayMs?: number
}

export interface Link {
  status(): object
  /** hub_link_* gauges for /metrics */
  metrics(): MetricFamily[]
  webhook: ReturnType<typeof reservationWebhook>
  reservations: ReservationSync
  stop(): Promise<void>
}

export async function createLink(deps: LinkDeps): Promise<Link> {
  const { config, clock, log, events, scheduling, broker, db } = deps
  const retry = deps.baseDelayMs !== undefined ? { baseDelayMs: deps.baseDelayMs } : {}
  const reservations = createReservationSync({
    cloudUrl: config.cloudUrl?.replace(/\/+$/, '') ?? null,
    token: config.cloudToken,
    pullSeconds: config.cloudPullSeconds,
    siteId: config.siteId,
    scheduling,
    outcomes: await openOutbox<ReservationOutcome>(db.sublevel('link-outcomes', { valueEncoding: 'json' })),
    state: db.sublevel('link-state', { valueEncoding: 'json' }),
    clock,
    log: log.child({ part: 'reservations' }),
    ...retry,
  })
  const uplink = config.uplinkUrl
    ? await createUplink({
        sessions: () => scheduling.list(),
        state: db.sublevel('link-state', { valueEncoding: 'json' }),
        url: config.uplinkUrl,
        token: config.uplinkToken,
        siteId: config.siteId,
        outbox: await openOutbox(db.sublevel('link-uplink', { valueEncoding: 'json' })),
        events,
        clock,
        log: log.child({ part: 'uplink' }),
        personalData: config.uplinkPersonalData,
        ...retry,
      })
    : undefined
  let bridge: Bridge | undefined
  if (config.bridgeUrl) {
    // The MQTT client library is loaded only when a bridge is configured (issue 17: start-up, RSS).
    const { createBridge } = await import('./bridge.js')
    bridge = createBridge({
      url: config.bridgeUrl,
      username: config.bridgeUsername,
      password: config.bridgePassword,
      caFile: config.bridgeCa,
      siteId: config.siteId,
      filters: config.bridgeTopics.split(',').map((f) => f.trim()).filter(Boolean),
      broker,
      outbox: await openOutbox<BridgedMessage>(db.sublevel('link-bridge', { valueEncoding: 'json' })),
      clock,
      log: log.child({ part: 'bridge' }),
      personalData: config.uplinkPersonalData,
      maxBacklog: config.bridgeMaxBacklog,
      ...retry,
    })
  }

  const status = () => ({
    reservations: { enabled: config.cloudUrl !== null, webhook: config.webhookSecret !== null, ...reservations.status() },
    uplink: uplink ? { enabled: true, ...uplink.status(), dropped: uplink.dropped() } : { enabled: false },
    bridge: bridge ? { enabled: true, ...bridge.status() } : { enabled: false },
  })

  return {
    status,
    metrics: (): MetricFamily[] => [
      {
        name: 'hub_link_backlog',
        help: 'Events waiting in a cloud-link outbox.',
        type: 'gauge',
        labelNames: ['part'],
        read: () => [
          [{ part: 'uplink' }, uplink?.status().backlog ?? 0],
          [{ part: 'bridge' }, bridge?.status().backlog ?? 0],
          [{ part: 'reservation_reports' }, reservations.status().reports.backlog],
        ],
      },
      {
        name: 'hub_link_last_success_seconds',
        help: 'Epoch seconds of the last successful delivery or pull.',
        type: 'gauge',
        labelNames: ['part'],
        read: () => [
          [{ part: 'uplink' }, uplink?.status().lastSuccess ?? 0],
          [{ part: 'bridge' }, bridge?.status().lastSuccess ?? 0],
          [{ part: 'reservations' }, reservations.status().pull.lastSuccess ?? 0],
        ],
      },
      {
        name: 'hub_link_dropped_total',
        help: 'Events not queued because the outbox was at its cap (uplink: machine telemetry past 200,000; bridge: HUB_BRIDGE_MAX_BACKLOG).',
        type: 'counter',
        labelNames: ['part'],
        read: () => [
          [{ part: 'uplink' }, uplink?.dropped() ?? 0],
          [{ part: 'bridge' }, bridge?.status().dropped ?? 0],
        ],
      },
      { name: 'hub_link_bridge_connected', help: '1 when the bridge is connected to the remote broker.', type: 'gauge', read: () => (bridge?.status().connected ? 1 : 0) },
    ],
    webhook: reservationWebhook(config.webhookSecret, reservations, clock),
    reservations,
    async stop() {
      reservations.stop()
      uplink?.stop()
      await bridge?.stop()
    },
  }
}
