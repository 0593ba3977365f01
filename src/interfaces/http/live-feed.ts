/**
 * GET /api/live: WebSocket feed of hub events (DESIGN §6), in the `{ topic, payload }`
 * envelope the MQTT side uses (STYLE §1, Z2M frontend). Browsers cannot set headers on a
 * WebSocket, so the token comes as `?token=` or as the first message `{"token": "..."}`; a
 * signed-in staff browser is known from its sign-in cookie on the upgrade request.
 *
 * Server -> client messages:
 *   { topic: 'snapshot', payload: { now, date, timezone, venue, role, sessions, layout?, machines?, alerts?, affected?, clock? } }   once, after auth
 *   { topic: 'session.changed', payload: { change, session, previous? } }
 *   { topic: 'machine.changed', payload: { machine } }                              machines.read (admin, staff roles)
 *   { topic: 'alert.raised' | 'alert.cleared', payload: { alert } }                 machines.read
 *   { topic: 'clock.changed', payload: { clock, stepMs, reason } }                   machines.read (issue 15)
 *   { topic: 'session.affected', payload: { affected: AffectedSession } }            sessions.all, or the session's owner (issue 11)
 *   { topic: 'credit.changed', payload: { change, credit } }                         sessions.all (issue 11)
 *   { topic: 'pong', payload: { now } }                                              reply to {"type":"ping"}
 * kiosk / reservation tokens receive only their own sessions. `now` is hub time in epoch
 * seconds so pages can count down against the hub's clock, not the tablet's.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { WebSocket } from '@fastify/websocket'
import type { FastifyRequest } from 'fastify'
import type { HubEvents } from '../../protocol/events.js'
import { can } from '../../protocol/permissions.js'
import { signInCookie, type TokenCheck } from './auth.js'
import { dayBounds } from '../../scheduling/index.js'
import type { Principal, RouteContext } from './deps.js'

/** A client that does not read is dropped rather than buffered without bound on a Pi. */
const MAX_BUFFERED_BYTES = 1024 * 1024
const AUTH_TIMEOUT_MS = 10_000
const OWNER = 'http-live-feed'
/**
 * WebSocket close codes: the application range (4000-4999) mirrors HTTP statuses; 1011 and
 * 1013 are RFC 6455's "internal error" and "try again later".
 */
export const CloseCodes = { unauthorized: 4401, slowConsumer: 4408, rateLimited: 4429, internal: 1011, full: 1013 } as const

type FeedTopic = 'session.changed' | 'machine.changed' | 'alert.raised' | 'alert.cleared' | 'clock.changed' | 'session.affected' | 'credit.changed'
const FEED_TOPICS: FeedTopic[] = ['session.changed', 'machine.changed', 'alert.raised', 'alert.cleared', 'clock.changed', 'session.affected', 'credit.changed']

interface LiveClient {
  socket: WebSocket
  principal: Principal
}

export interface LiveFeedDeps extends RouteContext {
  check: TokenCheck
  /** a staff sign-in cookie -> principal */
  cookieCheck: (cookie: string | undefined) => Principal | undefined
}

function visible(principal: Principal, topic: FeedTopic, payload: HubEvents[FeedTopic]): boolean {
  if (topic === 'credit.changed') return can(principal.role, 'sessions.all')
  if (topic === 'session.affected') {
    return can(principal.role, 'sessions.all') || (payload as HubEvents['session.affected']).affected.owner === principal.name
  }
  if (topic !== 'session.changed') return can(principal.role, 'machines.read')
  if (can(principal.role, 'sessions.all')) return true
  return (payload as HubEvents['session.changed']).session.origin_node === principal.name
}

export function createLiveFeed(deps: LiveFeedDeps) {
  const clients = new Set<LiveClient>()
  // Every open socket, signed in or not: the cap (HUB_LIVE_MAX_CLIENTS) counts both.
  const sockets = new Set<WebSocket>()
  const log = deps.log.child({ module: 'live-feed' })

  /**
   * Runs a handler of network input; an exception never reaches the event loop (issue 10):
   * it is logged and the socket closed with 1011, the others carry on.
   */
  const guarded = (socket: WebSocket, what: string, fn: () => void | Promise<void>) => {
    const fail = (error: unknown) => {
      log.error({ err: error, what }, 'live feed handler failed; socket closed')
      try {
        socket.close(CloseCodes.internal, 'internal error')
      } catch {
        socket.terminate()
      }
    }
    try {
      const result = fn()
      if (result) result.catch(fail)
    } catch (error) {
      fail(error)
    }
  }

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
      .filter((s) => can(principal.role, 'sessions.all') || s.origin_node === principal.name)
    // venue: how the pages write times (HUB_LOCALE, HUB_TIME_FORMAT) and where the bays are (rows,
    // for the kiosk's map). Not machine details: every role gets it.
    const venue = { locale: deps.config.locale, time_format: deps.config.timeFormat, rows: deps.config.layoutRows }
    const base = { now: deps.clock.now() / 1000, date, timezone: deps.config.timezone, venue, role: principal.role, sessions }
    if (!can(principal.role, 'machines.read')) return base
    // The grid's shape: the admin page orders its bay strip by the rows and draws the day's free grid
    // from it when /api/schedule (the compact runs reply, ~7.4 KB for 80 bays and a busy day) fails.
    const { machineIds, layoutRows, slotMinutes, openingHours } = deps.config
    const layout = { machines: machineIds, rows: layoutRows, slot_minutes: slotMinutes, opening_hours: openingHours }
    const affected = deps.affected?.list() ?? []
    return { ...base, layout, machines: deps.machines.list(), alerts: deps.machines.alerts(), affected, ...(deps.timekeeping && { clock: deps.timekeeping.status() }) }
  }

  const admit = (socket: WebSocket, principal: Principal) => {
    const client = { socket, principal }
    clients.add(client)
    socket.on('close', () => clients.delete(client))
    send(client, 'snapshot', snapshot(principal))
    socket.on('message', (data) =>
      guarded(socket, 'message', () => {
        if (parseJson(data)?.type === 'ping') send(client, 'pong', { now: deps.clock.now() / 1000 })
      }),
    )
  }

  const refuse = (socket: WebSocket) => socket.close(CloseCodes.unauthorized, 'unknown or missing token')

  /** Checks a token, counting failures per address (limits.ts) like the REST guard does. */
  const signIn = async (socket: WebSocket, request: FastifyRequest, token: unknown) => {
    const wait = await deps.limits.authBlocked(request)
    if (wait !== undefined) return socket.close(CloseCodes.rateLimited, `too many failed token checks; retry in ${wait} s`)
    const principal = typeof token === 'string' ? allowed(deps.check(token)) : undefined
    if (principal) return admit(socket, principal)
    await deps.limits.authFailed(request)
    refuse(socket)
  }

  const open = (socket: WebSocket, request: FastifyRequest) => {
    if (sockets.size >= deps.config.liveMaxClients) {
      return socket.close(CloseCodes.full, `too many live connections (HUB_LIVE_MAX_CLIENTS=${deps.config.liveMaxClients})`)
    }
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    const fromQuery = (request.query as { token?: unknown }).token
    if (typeof fromQuery === 'string') return signIn(socket, request, fromQuery)
    // A signed-in browser is known from its cookie at once (the upgrade request carries it).
    const signedIn = allowed(deps.cookieCheck(signInCookie(request.headers)))
    if (signedIn) return admit(socket, signedIn)
    const cancel = deps.clock.setTimeout(() => guarded(socket, 'auth timeout', () => refuse(socket)), AUTH_TIMEOUT_MS)
    socket.once('close', cancel)
    socket.once('message', (data) =>
      guarded(socket, 'sign-in', () => {
        cancel()
        return signIn(socket, request, parseJson(data)?.token)
      }),
    )
  }

  const routes: FastifyPluginAsyncTypebox<RouteContext> = async (app) => {
    app.get('/api/live', { websocket: true, schema: { hide: true } }, (socket, request) => guarded(socket, 'open', () => open(socket, request)))
  }

  return {
    routes,
    clients: () => clients.size,
    stop() {
      deps.events.off(OWNER)
      for (const socket of sockets) socket.close(1001, 'hub stopping')
      clients.clear()
      sockets.clear()
    },
  }
}

/** The feed is for principals with live.read (not monitor tokens). */
function allowed(principal: Principal | undefined): Principal | undefined {
  return principal && can(principal.role, 'live.read') ? principal : undefined
}

function parseJson(data: unknown): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(String(data))
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
