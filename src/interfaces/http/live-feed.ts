/**
 * GET /api/live: WebSocket feed of hub events (DESIGN §6), in the `{ topic, payload }`
 * envelope the MQTT side uses (STYLE §1, Z2M frontend). Browsers cannot set headers on a
 * WebSocket, so the token comes as `?token=` or as the first message `{"token": "..."}`.
 *
 * Server -> client messages:
 *   { topic: 'snapshot', payload: { now, date, timezone, role, sessions, layout?, machines?, alerts?, clock? } }   once, after auth
 *   { topic: 'session.changed', payload: { change, session, previous? } }
 *   { topic: 'machine.changed', payload: { machine } }                              admin only
 *   { topic: 'alert.raised' | 'alert.cleared', payload: { alert } }                 admin only
 *   { topic: 'clock.changed', payload: { clock, stepMs, reason } }                   admin only (issue 15)
 *   { topic: 'pong', payload: { now } }                                              reply to {"type":"ping"}
 * kiosk / reservation tokens receive only their own sessions. `now` is hub time in epoch
 * seconds so pages can count down against the hub's clock, not the tablet's.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { WebSocket } from '@fastify/websocket'
import type { HubEvents } from '../../protocol/events.js'
import type { TokenCheck } from './auth.js'
import { dayBounds } from '../../scheduling/index.js'
import type { Principal, RouteContext } from './deps.js'

/** A client that does not read is dropped rather than buffered without bound on a Pi. */
const MAX_BUFFERED_BYTES = 1024 * 1024
const AUTH_TIMEOUT_MS = 10_000
const OWNER = 'http-live-feed'
/** WebSocket close codes in the application range (4000-4999), mirroring HTTP statuses. */
export const CloseCodes = { unauthorized: 4401, slowConsumer: 4408 } as const

type FeedTopic = 'session.changed' | 'machine.changed' | 'alert.raised' | 'alert.cleared' | 'clock.changed'
const FEED_TOPICS: FeedTopic[] = ['session.changed', 'machine.changed', 'alert.raised', 'alert.cleared', 'clock.changed']

interface LiveClient {
  socket: WebSocket
  principal: Principal
}

export interface LiveFeedDeps extends RouteContext {
  check: TokenCheck
}

function visible(principal: Principal, topic: FeedTopic, payload: HubEvents[FeedTopic]): boolean {
  if (principal.role === 'admin') return true
  if (topic !== 'session.changed') return false
  return (payload as HubEvents['session.changed']).session.origin_node === principal.name
}

export function createLiveFeed(deps: LiveFeedDeps) {
  const clients = new Set<LiveClient>()

  const send = (client: LiveClient, topic: string, payload: unknown) => {
    if (client.socket.readyState !== client.socket.OPEN) return
    if (client.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      client.socket.close(CloseCodes.slowConsumer, 'too slow')
      return
    }
    client.socket.send(JSON.stringify({ topic, payload }))
  }

  for (const topic of FEED_TOPICS) {
    deps.events.on(topic, OWNER, (payload) => {
      for (const client of clients) if (visible(client.principal, topic, payload)) send(client, topic, payload)
    })
  }

  const snapshot = (principal: Principal) => {
    const date = deps.today()
    const { from, to } = dayBounds(deps.config.timezone, date)
    const sessions = deps.scheduling
      .list({ from, to })
      .filter((s) => s.end_time > from && s.start_time < to)
      .filter((s) => principal.role === 'admin' || s.origin_node === principal.name)
    const base = { now: deps.clock.now() / 1000, date, timezone: deps.config.timezone, role: principal.role, sessions }
    if (principal.role !== 'admin') return base
    // The grid's shape, so the admin page needs no /api/schedule (about 11 KB per bay and day) to draw it.
    const { machineIds, layoutRows, slotMinutes, openingHours } = deps.config
    const layout = { machines: machineIds, rows: layoutRows, slot_minutes: slotMinutes, opening_hours: openingHours }
    return { ...base, layout, machines: deps.machines.list(), alerts: deps.machines.alerts(), ...(deps.timekeeping && { clock: deps.timekeeping.status() }) }
  }

  const admit = (socket: WebSocket, principal: Principal) => {
    const client = { socket, principal }
    clients.add(client)
    socket.on('close', () => clients.delete(client))
    send(client, 'snapshot', snapshot(principal))
    socket.on('message', (data) => {
      if (parseJson(data)?.type === 'ping') send(client, 'pong', { now: deps.clock.now() / 1000 })
    })
  }

  const refuse = (socket: WebSocket) => socket.close(CloseCodes.unauthorized, 'unknown or missing token')

  const routes: FastifyPluginAsyncTypebox<RouteContext> = async (app) => {
    app.get('/api/live', { websocket: true, schema: { hide: true } }, (socket, request) => {
      const fromQuery = (request.query as { token?: unknown }).token
      if (typeof fromQuery === 'string') {
        const principal = deps.check(fromQuery)
        return principal ? admit(socket, principal) : refuse(socket)
      }
      const cancel = deps.clock.setTimeout(() => refuse(socket), AUTH_TIMEOUT_MS)
      socket.once('close', cancel)
      socket.once('message', (data) => {
        cancel()
        const token = parseJson(data)?.token
        const principal = typeof token === 'string' ? deps.check(token) : undefined
        if (principal) admit(socket, principal)
        else refuse(socket)
      })
    })
  }

  return {
    routes,
    clients: () => clients.size,
    stop() {
      deps.events.off(OWNER)
      for (const client of clients) client.socket.close(1001, 'hub stopping')
      clients.clear()
    },
  }
}

function parseJson(data: unknown): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(String(data))
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
