/**
 * The internal/handler adapter (DESIGN §4 "Interface nodes"): Request `machine` -> the
 * machine state(s); Machine (override) -> machines.override with the sender's role as
 * priority (DESIGN §5). Every answer and refusal goes through the node replier.
 */
import type { Logger } from 'pino'
import type { BrokerPort, InboundMessage } from '../../broker/port.js'
import type { CommandRequester, Machines } from '../../machines/types.js'
import { decoderFor, type ReplyTo } from '../../protocol/codec.js'
import { MachineOverride, Request } from '../../protocol/messages.js'
import { Topics, isValidNodeName } from '../../protocol/topics.js'
import { senderNode, type NodeReplier } from './node-replier.js'

export interface HandlerNodeDeps {
  broker: BrokerPort
  machines: Machines
  replier: NodeReplier
  log?: Logger
}

const decodeRequest = decoderFor(Request)
const decodeOverride = decoderFor(MachineOverride)

/** What to echo even when the payload is bad: origin_node / exchange_id / request_id when well-formed. */
function echoOf(raw: unknown): ReplyTo {
  if (typeof raw !== 'object' || raw === null) return {}
  const r = raw as Record<string, unknown>
  const id = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined)
  return {
    origin_node: typeof r.origin_node === 'string' && isValidNodeName(r.origin_node) ? r.origin_node : undefined,
    exchange_id: id(r.exchange_id),
    request_id: id(r.request_id),
  }
}

/** Priority comes from the authenticated role; in-process and anonymous dev clients act as admin. */
function requesterOf(message: InboundMessage): CommandRequester | undefined {
  const c = message.client
  if (c === null || c.kind === 'anonymous') return { source: 'admin', node: senderNode(message) }
  if (c.kind === 'node') return { source: c.role, node: c.node }
  return undefined
}

function parse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'))
  } catch {
    return undefined
  }
}

export function createHandlerNode(deps: HandlerNodeDeps): { stop(): void } {
  const { broker, machines, replier, log } = deps

  const request = async (message: InboundMessage, raw: object) => {
    const decoded = decodeRequest.check(raw)
    if (!decoded.ok) return replier.reject(message, echoOf(raw), decoded.message)
    const req = decoded.value
    if (req.request_type !== 'machine') {
      return replier.reject(message, req, `request_type: internal/handler answers "machine" requests; send "${req.request_type}" to ${Topics.manager}`)
    }
    if (req.machine_id === undefined) return replier.reply(message, req, { request_type: 'machine', machines: machines.list() })
    const state = machines.get(req.machine_id)
    if (!state) return replier.reject(message, req, `machine_id: machine ${req.machine_id} is not served by this hub`, { machine_id: req.machine_id })
    return replier.reply(message, req, state)
  }

  const override = async (message: InboundMessage, raw: object) => {
    // A release needs no target state: let `{"machine_id": 3, "release": true}` through.
    const input = (raw as { release?: unknown }).release === true && !('status' in raw) ? { ...raw, status: 'idle' } : raw
    const decoded = decodeOverride.check(input)
    if (!decoded.ok) return replier.reject(message, echoOf(raw), decoded.message)
    const cmd = decoded.value
    const by = requesterOf(message)
    if (!by) return replier.reject(message, cmd, '(sender): a machine may not command machines', { machine_id: cmd.machine_id })
    const result = await machines.override(cmd, by)
    if (!result.ok) {
      const extra = { machine_id: cmd.machine_id, status: cmd.status }
      // Bad content counts as bad input (metrics); a held machine is an ordinary refusal.
      if (result.code === 'MACHINE_HELD') return replier.reply(message, cmd, { success: false, message: result.message, ...extra })
      return replier.reject(message, cmd, result.message, extra)
    }
    const desired = result.value.desired
    return replier.reply(message, cmd, {
      success: true,
      machine_id: cmd.machine_id,
      status: desired?.status ?? result.value.status,
      session_id: desired?.session_id ?? null,
      ...(cmd.release && { message: `machine ${cmd.machine_id} released to the schedule` }),
    })
  }

  const handle = async (message: InboundMessage) => {
    const raw = parse(message.payload)
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return replier.reject(message, echoOf(raw), '(payload): payload is not a JSON object')
    }
    return 'request_type' in raw ? request(message, raw) : override(message, raw)
  }

  const off = broker.onMessage(Topics.handler, (message) => {
    handle(message).catch((error: unknown) => log?.error({ err: error, topic: message.topic }, 'internal/handler message failed'))
  })
  return { stop: off }
}
