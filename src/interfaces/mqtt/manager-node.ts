/**
 * The `internal/manager` adapter (DESIGN §4): Session create / update / cancel and Request
 * `session` / `schedule` from interface nodes, answered on the sender's reply topic. Thin:
 * decodeInbound -> scheduling call -> Confirmation / Session / Schedule. Every refusal is a
 * Confirmation `success: false` whose message names the field or the conflicting session and
 * bay; bad input never changes state. Session changes reach internal/admin and the owner
 * through the 'session.changed' event (the admin feed), not from here.
 */
import type { Logger } from 'pino'
import type { BrokerPort, InboundMessage } from '../../broker/port.js'
import type { Clock } from '../../lib/clock.js'
import { sessionReadRefusal, type Actor } from '../../protocol/access.js'
import type { ReplyAddress } from '../../protocol/envelope.js'
import { decodeInbound } from '../../protocol/inbound.js'
import { bookingChannelOf } from '../../protocol/calendar.js'
import { Topics, type Confirmation, type Request, type Session, type SessionRecord } from '../../protocol/index.js'
import { dateAt, type Scheduling, type SubmitOptions } from '../../scheduling/index.js'
import type { NodeReplier } from './node-replier.js'
import { timeBooking, type BookingMeter } from '../../metrics/index.js'

export interface ManagerNodeDeps {
  broker: BrokerPort
  scheduling: Scheduling
  /** createNodeReplier({ broker, clock, events, from: NodeNames.scheduleManager }) */
  replier: NodeReplier
  clock: Clock
  /** HUB_TIMEZONE: a schedule Request without `date` means today there (default: system zone) */
  timeZone?: string
  log?: Logger
  /** booking latency (received -> answered) for /metrics */
  bookings?: BookingMeter
}

export interface ManagerNode {
  stop(): void
}

/** Codes that mean the payload itself is wrong (DESIGN §4 "Bad input": counted). */
const BAD_INPUT = new Set(['SESSION_INVALID', 'MACHINE_UNKNOWN', 'IDEMPOTENCY_KEY_REUSED'])

/**
 * Who asks: the login decodeInbound established; a node with role admin may change any
 * session. The hub itself (in-process) and anonymous development clients act as admin.
 */
export function requesterOf(actor: Actor): SubmitOptions {
  return { origin: actor.name, isAdmin: actor.role === 'admin', channel: bookingChannelOf(actor.role) }
}

/** The Confirmation of an accepted Session (also what an idempotent repeat gets again). */
export function confirmationOf(s: SessionRecord): Confirmation & Pick<SessionRecord, 'start_time' | 'end_time' | 'duration'> {
  return { success: true, session_id: s.session_id, status: s.status, machine_id: s.machine_id, start_time: s.start_time, end_time: s.end_time, duration: s.duration }
}

export function createManagerNode(deps: ManagerNodeDeps): ManagerNode {
  const { broker, scheduling, replier, clock } = deps
  const timeZone = deps.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone

  const handleSession = async (message: InboundMessage, to: ReplyAddress, actor: Actor, session: Session, receivedAt: number) => {
    // issue 10: (origin, exchange_id) is the retry key of a Session, remembered 24 h by scheduling.
    const key = session.exchange_id === undefined ? {} : { idempotency: { key: String(session.exchange_id), field: 'exchange_id' } }
    const said = session.reason === undefined ? {} : { reason: session.reason }
    const outcome = await timeBooking(deps.bookings, 'mqtt', receivedAt, scheduling.submit(session, { ...requesterOf(actor), ...key, ...said }))
    if (outcome.ok) return replier.reply(to, confirmationOf(outcome.value.session))
    const extra = { session_id: session.session_id ?? null }
    if (BAD_INPUT.has(outcome.code)) return replier.reject(message, to, outcome.message, extra)
    return replier.reply(to, { success: false, message: outcome.message, ...extra })
  }

  const handleRequest = async (message: InboundMessage, to: ReplyAddress, actor: Actor, request: Request) => {
    if (request.request_type === 'machine') {
      return replier.reject(message, to, `request_type: machine reports are requested on ${Topics.handler}`)
    }
    if (request.request_type === 'schedule') {
      // Slots unless asked: deployed nodes read the seed's rows (README "Schedule formats").
      const schedule = scheduling.scheduleReply(request.date ?? dateAt(timeZone, clock.now() / 1000), request.format ?? 'slots')
      if (!schedule.ok) return replier.reject(message, to, schedule.message)
      return replier.replyBytes(to, schedule.value.bytes)
    }
    if (request.session_id === undefined) {
      return replier.reject(message, to, 'session_id: is required for request_type session', { session_id: null })
    }
    // Archived sessions too (issue 13), as GET /api/sessions/:id.
    const found = await scheduling.find(request.session_id)
    if (!found) return replier.reply(to, { success: false, session_id: request.session_id, message: `session_id: no session ${request.session_id}` })
    // The same rule as GET /api/sessions/:id: a node reads only its own sessions, admins all.
    const refused = sessionReadRefusal(actor, found)
    if (refused) return replier.reply(to, { success: false, session_id: request.session_id, message: `session_id: ${refused}` })
    return replier.reply(to, found)
  }

  const handle = async (message: InboundMessage) => {
    const receivedAt = performance.now()
    const decoded = decodeInbound(message.topic, message.payload, message.client)
    if (!decoded.ok) return replier.reject(message, decoded.reply, decoded.message, { session_id: decoded.hint.session_id })
    if (decoded.sender.kind !== 'node') return // decodeInbound admits only nodes here
    const { actor } = decoded.sender
    try {
      if (decoded.kind === 'request') await handleRequest(message, decoded.reply, actor, decoded.value)
      else if (decoded.kind === 'session') await handleSession(message, decoded.reply, actor, decoded.value, receivedAt)
    } catch (error) {
      // I/O failure (the session was not stored): say so rather than stay silent.
      deps.log?.error({ err: error, topic: message.topic }, 'manager request failed')
      await replier.reply(decoded.reply, { success: false, session_id: 'session_id' in decoded.value ? (decoded.value.session_id ?? null) : null, message: 'internal error: nothing was changed' })
    }
  }

  const unsubscribe = broker.onMessage(Topics.manager, (message) => {
    handle(message).catch((error: unknown) => deps.log?.error({ err: error }, 'manager reply failed'))
  })
  return { stop: unsubscribe }
}
