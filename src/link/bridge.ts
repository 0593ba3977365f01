/**
 * Bridge to a central MQTT broker (mosquitto, RabbitMQ's MQTT plugin, EMQX, AWS IoT Core): messages on the chosen topics
 * of the embedded broker are stored durably first, then forwarded in order with QoS 1 under
 * `sites/<HUB_SITE_ID>/<topic>`; while the remote is unreachable they wait in LevelDB
 * (store-and-forward) and go out when it is back. At most `maxBacklog` wait (HUB_BRIDGE_MAX_BACKLOG,
 * like the uplink's 200,000): a remote gone for weeks must not fill the Pi's SD card, so while
 * that many wait new messages are dropped, counted and logged (once per episode), and what
 * waits keeps its order.
 */
import { readFileSync } from 'node:fs'
import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import type { BrokerPort } from '../broker/port.js'
import type { Clock } from '../lib/clock.js'
import { createDeliverer, type DeliveryStatus } from './deliverer.js'
import type { Outbox } from './outbox.js'
import { withoutPersonalData } from '../protocol/details.js'

export interface BridgedMessage {
  topic: string
  payload: string
}

export interface BridgeDeps {
  url: string
  username: string | null
  password: string | null
  caFile: string | null
  siteId: string
  filters: readonly string[]
  broker: BrokerPort
  outbox: Outbox<BridgedMessage>
  clock: Clock
  log: Logger
  /** HUB_UPLINK_PERSONAL_DATA: forward booking details too (default: removed from bridged JSON) */
  personalData?: boolean
  /** HUB_BRIDGE_MAX_BACKLOG: most messages waiting; further ones are dropped */
  maxBacklog: number
  baseDelayMs?: number
}

/** A bridged payload without booking details (Session messages carry them to admin nodes). */
export function bridgedPayload(payload: Buffer, personalData: boolean): string {
  const text = payload.toString('utf8')
  if (personalData || !text.includes('"details"')) return text
  try {
    const parsed: unknown = JSON.parse(text)
    const stripped = withoutPersonalData(parsed)
    return stripped === parsed ? text : JSON.stringify(stripped)
  } catch {
    return text // not JSON: nothing of ours
  }
}

export interface Bridge {
  /** `dropped`: messages not bridged because `maxBacklog` were waiting, since start */
  status(): DeliveryStatus & { connected: boolean; dropped: number }
  stop(): Promise<void>
}

export function createBridge(deps: BridgeDeps): Bridge {
  const { broker, outbox, clock, log, siteId, maxBacklog } = deps
  /** appends not yet in outbox.size(): a burst must not overshoot the cap while they are written */
  let appending = 0
  let dropped = 0
  /** dropped since the backlog was last below the cap (one warning per episode, not per message) */
  let droppedNow = 0
  const client: MqttClient = mqtt.connect(deps.url, {
    clientId: `dispenser-hub-${siteId}`,
    // MQTT 3.1.1: what every central engine speaks (RabbitMQ 3.10's plugin knows nothing newer);
    // the bridge needs nothing of MQTT 5 and never QoS 2 or retain (README "Central broker")
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
    ...(deps.username ? { username: deps.username } : {}),
    ...(deps.password ? { password: deps.password } : {}),
    ...(deps.caFile ? { ca: readFileSync(deps.caFile) } : {}),
  })
  const deliverer = createDeliverer({
    outbox,
    clock,
    batchSize: 50,
    ...(deps.baseDelayMs !== undefined ? { baseDelayMs: deps.baseDelayMs } : {}),
    ready: () => client.connected,
    send: async (batch) => {
      for (const { value } of batch) await client.publishAsync(`sites/${siteId}/${value.topic}`, value.payload, { qos: 1 })
    },
  })
  client.on('connect', () => {
    log.info({ url: deps.url }, 'bridge connected')
    deliverer.kick()
  })
  client.on('error', (error) => log.warn({ err: error }, 'bridge connection error'))
  if (!broker.onPublish) throw new Error('the broker cannot observe publishes: no bridge possible')
  const offs = deps.filters.map((filter) =>
    broker.onPublish!(filter, (m) => {
      if (outbox.size() + appending >= maxBacklog) {
        dropped++
        if (droppedNow++ === 0) log.warn({ maxBacklog, topic: m.topic }, 'bridge backlog full (HUB_BRIDGE_MAX_BACKLOG): new messages are dropped until the remote broker takes some')
        return
      }
      if (droppedNow > 0) {
        log.info({ dropped: droppedNow, maxBacklog }, 'bridge backlog below its cap again; messages dropped while it was full')
        droppedNow = 0
      }
      appending++
      outbox.append([{ topic: m.topic, payload: bridgedPayload(m.payload, deps.personalData === true) }]).then(
        () => {
          appending--
          deliverer.kick()
        },
        (error: unknown) => {
          appending--
          log.error({ err: error }, 'bridge outbox append failed')
        },
      )
    }),
  )
  return {
    status: () => ({ ...deliverer.status(), connected: client.connected, dropped }),
    async stop() {
      for (const off of offs) off()
      deliverer.stop()
      await client.endAsync(true)
    },
  }
}
