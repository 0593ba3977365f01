/**
 * The internal/handler adapter (DESIGN §4 "Interface nodes"): Request `machine` -> the
 * machine state(s), for the roles GET /api/machines admits; Machine (override) ->
 * machines.override with the sender's role as priority (DESIGN §5). Input comes through
 * decodeInbound; every answer and refusal goes through the node replier.
 */
import type { Logger } from 'pino'
import type { BrokerPort, InboundMessage } from '../../broker/port.js'
import type { CommandRequester, Machines } from '../../machines/types.js'
import { machineReadRefusal, type Actor } from '../../protocol/access.js'
import type { ReplyAddress } from '../../protocol/envelope.js'
import { decodeInbound } from '../../protocol/inbound.js'
import type { MachineOverride, Request } from '../../protocol/messages.js'
import { Topics } from '../../protocol/topics.js'
import type { NodeReplier } from './node-replier.js'

export interface HandlerNodeDeps {
  broker: BrokerPort
  machines: Machines
  replier: NodeReplier
  log?: Logger
}

/** Priority comes from the authenticated role (in-process and anonymous dev clients are admins). */
function requesterOf(actor: Actor): CommandRequester {
  return { source: actor.role, node: actor.name, actor: { kind: 'node', name: actor.name } }
}

export function createHandlerNode(deps: HandlerNodeDeps): { stop(): void } {
  const { broker, machines, replier, log } = deps

  const request = async (message: InboundMessage, to: ReplyAddress, actor: Actor, req: Request) => {
    if (req.request_type !== 'machine') {
      return replier.reject(message, to, `request_type: internal/handler answers "machine" requests; send "${req.request_type}" to ${Topics.manager}`)
    }
    // The same rule as GET /api/machines: machine state is for admins.
    const refused = machineReadRefusal(actor)
    if (refused) return replier.reply(to, { success: false, message: `request_type: ${refused}`, ...(req.machine_id !== undefined && { machine_id: req.machine_id }) })
    if (req.machine_id === undefined) return replier.reply(to, { request_type: 'machine', machines: machines.list() })
    const state = machines.get(req.machine_id)
    if (!state) return replier.reject(message, to, `machine_id: machine ${req.machine_id} is not served by this hub`, { machine_id: req.machine_id })
    return replier.reply(to, state)
  }

  const override = async (message: InboundMessage, to: ReplyAddress, actor: Actor, cmd: MachineOverride) => {
    const result = await machines.override(cmd, requesterOf(actor))
    if (!result.ok) {
      const extra = { machine_id: cmd.machine_id, status: cmd.status }
      // Bad content counts as bad input (metrics); a held machine is an ordinary refusal.
      if (result.code === 'MACHINE_HELD' || result.code === 'OVERRIDE_UNCONFIRMED') return replier.reply(to, { success: false, message: result.message, ...extra })
      return replier.reject(message, to, result.message, extra)
    }
    const desired = result.value.desired
    return replier.reply(to, {
      success: true,
      machine_id: cmd.machine_id,
      status: desired?.status ?? result.value.status,
      session_id: desired?.session_id ?? null,
      ...(cmd.release && { message: `machine ${cmd.machine_id} released to the schedule` }),
    })
  }

  const handle = async (message: InboundMessage) => {
    const decoded = decodeInbound(message.topic, message.payload, message.client)
    if (!decoded.ok) {
      return replier.reject(message, decoded.reply, decoded.message, decoded.hint.machine_id !== undefined ? { machine_id: decoded.hint.machine_id } : {})
    }
    if (decoded.sender.kind !== 'node') return // decodeInbound admits only nodes here
    if (decoded.kind === 'request') return request(message, decoded.reply, decoded.sender.actor, decoded.value)
    if (decoded.kind === 'override') return override(message, decoded.reply, decoded.sender.actor, decoded.value)
  }

  const off = broker.onMessage(Topics.handler, (message) => {
    handle(message).catch((error: unknown) => log?.error({ err: error, topic: message.topic }, 'internal/handler message failed'))
  })
  return { stop: off }
}
