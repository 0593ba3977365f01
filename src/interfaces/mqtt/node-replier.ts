/**
 * How the internal/* adapters answer nodes: one place that picks the reply topic,
 * echoes exchange_id / request_id, and counts bad input (DESIGN §4).
 */
import type { BrokerPort, InboundMessage } from '../../broker/port.js'
import type { Clock } from '../../lib/clock.js'
import type { EventBus } from '../../lib/event-bus.js'
import { replyFor, refusal, type ReplyTo } from '../../protocol/codec.js'
import type { HubEvents } from '../../protocol/events.js'
import type { Confirmation } from '../../protocol/messages.js'

export interface NodeReplier {
  /** Send `body` to the sender's reply topic. */
  reply(message: InboundMessage, request: ReplyTo, body: object): Promise<void>
  /** Refuse bad input: Confirmation success:false naming the problem, counted as bad input. */
  reject(message: InboundMessage, request: ReplyTo, text: string, extra?: Partial<Confirmation>): Promise<void>
}

export interface NodeReplierDeps {
  broker: BrokerPort
  clock: Clock
  events: EventBus<HubEvents>
  /** our node name in replies, e.g. schedule_manager */
  from: string
}

/** The sender's node name: its client identity, used when the message names no origin_node. */
export function senderNode(message: InboundMessage): string {
  const client = message.client
  if (!client) return 'admin_portal'
  return client.kind === 'node' ? client.node : client.clientId
}

export function createNodeReplier({ broker, clock, events, from }: NodeReplierDeps): NodeReplier {
  const reply = async (message: InboundMessage, request: ReplyTo, body: object) => {
    const out = replyFor(request, body, from, senderNode(message), clock.now() / 1000)
    await broker.publish(out.topic, out.payload, { qos: 1 })
  }
  return {
    reply,
    async reject(message, request, text, extra = {}) {
      events.emit('input.rejected', { topic: message.topic, client: senderNode(message), message: text })
      await reply(message, request, refusal(text, extra))
    },
  }
}
