/**
 * The `internal/manager` adapter (DESIGN §4): Session create / update / cancel and Request
 * `session` / `schedule` from interface nodes, answered on the sender's reply topic. Thin:
 * decode -> scheduling call -> Confirmation / Session / Schedule. Every refusal is a
 * Confirmation `success: false` whose message names the field or the conflicting session and
 * bay; bad input never changes state. Session changes reach internal/admin and the owner
 * through the 'session.changed' event (the admin feed), not from here.
 */
import type { Logger } from 'pino'
import type { BrokerPort, InboundMessage } from '../../broker/port.js'
import type { Clock } from '../../lib/clock.js'
import { decoderFor, type ReplyTo } from '../../protocol/codec.js'
import { Request, Session, Topics, isValidNodeName, type Confirmation, type SessionRecord } from '../../protocol/index.js'
import { dateAt, type Scheduling, type SubmitOptions } from '../../scheduling/index.js'
import { senderNode, type NodeReplier } from './node-replier.js'

export interface ManagerNodeDeps {
  broker: BrokerPort
  scheduling: Scheduling
  /** createNodeReplier({ broker, clock, events, from: NodeNames.scheduleManager }) */
  replier: NodeReplier
  clock: Clock
  /** HUB_TIMEZONE: a schedule Request without `date` means today there (default: system zone) */
  timeZone?: string
  log?: Logger
}

export interface ManagerNode {
  stop(): void
}

const decodeSession = decoderFor(Session)
const decodeRequest = decoderFor(Request)
// Same bound as the codec's decoders: a node cannot make the hub parse megabytes.
const MAX_PAYLOAD_BYTES = 64 * 1024

/** Codes that mean the payload itself is wrong (DESIGN §4 "Bad input": counted). */
const BAD_INPUT = new Set(['SESSION_INVALID', 'MACHINE_UNKNOWN'])

/**
 * Who asks: the authenticated client; a node with role admin may change any session. As on
 * internal/handler, the hub itself (in-process) and anonymous development clients
 * (HUB_MQTT_ALLOW_ANONYMOUS) act as admin; a machine never does.
 */
export function requesterOf(message: InboundMessage): SubmitOptions {
  const client = message.client
  if (!client || client.kind === 'anonymous') return { origin: senderNode(message), isAdmin: true }
  if (client.kind === 'node') return { origin: client.node, isAdmin: client.role === 'admin' }
  return { origin: client.clientId, isAdmin: false }
}

/** The Confirmation of an accepted Session (also what an idempotent repeat gets again). */
export function confirmationOf(s: SessionRecord): Confirmation & Pick<SessionRecord, 'start_time' | 'end_time' | 'duration'> {
  return { success: true, session_id: s.session_id, status: s.status, machine_id: s.machine_id, start_time: s.start_time, end_time: s.end_time, duration: s.duration }
}

export function createManagerNode(deps: ManagerNodeDeps): ManagerNode {
  const { broker, scheduling, replier, clock } = deps
  const timeZone = deps.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone

  const handleSession = async (message: InboundMessage, value: unknown, replyTo: ReplyTo) => {
    const decoded = decodeSession.check(value)
    if (!decoded.ok) return replier.reject(message, replyTo, decoded.message, { session_id: sessionIdOf(value) })
    const session = decoded.value
    const outcome = await scheduling.submit(session, requesterOf(message))
    if (outcome.ok) return replier.reply(message, session, confirmationOf(outcome.value.session))
    const extra = { session_id: session.session_id ?? null }
    if (BAD_INPUT.has(outcome.code)) return replier.reject(message, session, outcome.message, extra)
    return replier.reply(message, session, { success: false, message: outcome.message, ...extra })
  }

  const handleRequest = async (message: InboundMessage, value: unknown, replyTo: ReplyTo) => {
    const decoded = decodeRequest.check(value)
    if (!decoded.ok) return replier.reject(message, replyTo, decoded.message, { session_id: sessionIdOf(value) })
    const request = decoded.value
    if (request.request_type === 'machine') {
      return replier.reject(message, request, `request_type: machine reports are requested on ${Topics.handler}`)
    }
    if (request.request_type === 'schedule') {
      const schedule = scheduling.scheduleFor(request.date ?? dateAt(timeZone, clock.now() / 1000))
      if (!schedule.ok) return replier.reject(message, request, schedule.message)
      return replier.reply(message, request, schedule.value)
    }
    if (request.session_id === undefined) {
      return replier.reject(message, request, 'session_id: is required for request_type session', { session_id: null })
    }
    const found = scheduling.get(request.session_id)
    if (!found) return replier.reply(message, request, { success: false, session_id: request.session_id, message: `session_id: no session ${request.session_id}` })
    return replier.reply(message, request, found)
  }

  const handle = async (message: InboundMessage) => {
    const value = parse(message.payload)
    if (!value.ok) return replier.reject(message, {}, value.message, { session_id: null })
    const replyTo = replyToOf(value.value)
    try {
      const isRequest = typeof value.value === 'object' && value.value !== null && 'request_type' in value.value
      await (isRequest ? handleRequest : handleSession)(message, value.value, replyTo)
    } catch (error) {
      // I/O failure (the session was not stored): say so rather than stay silent.
      deps.log?.error({ err: error, topic: message.topic }, 'manager request failed')
      await replier.reply(message, replyTo, { success: false, session_id: sessionIdOf(value.value), message: 'internal error: nothing was changed' })
    }
  }

  const unsubscribe = broker.onMessage(Topics.manager, (message) => {
    handle(message).catch((error: unknown) => deps.log?.error({ err: error }, 'manager reply failed'))
  })
  return { stop: unsubscribe }
}

function parse(payload: Buffer): { ok: true; value: unknown } | { ok: false; message: string } {
  if (payload.length > MAX_PAYLOAD_BYTES) return { ok: false, message: `(payload): larger than ${MAX_PAYLOAD_BYTES} bytes` }
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) }
  } catch {
    return { ok: false, message: '(payload): payload is not valid JSON' }
  }
}

/** Echo what can be echoed even from a payload that failed validation. */
function replyToOf(value: unknown): ReplyTo {
  if (typeof value !== 'object' || value === null) return {}
  const v = value as Record<string, unknown>
  const id = (x: unknown) => (Number.isSafeInteger(x) && (x as number) >= 0 ? (x as number) : undefined)
  return {
    origin_node: typeof v.origin_node === 'string' && isValidNodeName(v.origin_node) ? v.origin_node : undefined,
    exchange_id: id(v.exchange_id),
    request_id: id(v.request_id),
  }
}

function sessionIdOf(value: unknown): number | null {
  const id = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).session_id : undefined
  return Number.isSafeInteger(id) && (id as number) > 0 ? (id as number) : null
}
