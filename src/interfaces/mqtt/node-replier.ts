/**
 * How the internal/* adapters answer nodes: to the address decodeInbound chose (the login's
 * reply topic), enveloped by the one envelope helper, and bad input counted (DESIGN §4).
 */
import { JsonBytes, type BrokerPort, type InboundMessage } from '../../broker/port.js'
import type { Clock } from '../../lib/clock.js'
import type { EventBus } from '../../lib/event-bus.js'
import { addressed, envelopeBytes, refusal, type ReplyAddress } from '../../protocol/envelope.js'
import type { HubEvents } from '../../protocol/events.js'
import type { Confirmation } from '../../protocol/messages.js'

export interface NodeReplier {
  /** Send `body` to `to`. */
  reply(to: ReplyAddress, body: object): Promise<void>
  /** Send a body already serialised (a JSON object's bytes, e.g. a cached schedule reply) to `to`, enveloped. */
  replyBytes(to: ReplyAddress, body: Buffer): Promise<void>
  /** Refuse bad input: Confirmation success:false naming the problem, counted as bad input; sent when there is someone to tell. */
  reject(message: InboundMessage, to: ReplyAddress | undefined, text: string, extra?: Partial<Confirmation>): Promise<void>
}

export interface NodeReplierDeps {
  broker: BrokerPort
  clock: Clock
  events: EventBus<HubEvents>
  /** our node name in replies, e.g. schedule_manager */
  from: string
}

/** The sender's login name, for logs and the bad-input count. */
export function senderNode(message: InboundMessage): string {
  const client = message.client
  if (!client) return 'admin_portal'
  return client.kind === 'node' ? client.node : client.clientId
}

export function createNodeReplier({ broker, clock, events, from }: NodeReplierDeps): NodeReplier {
  const reply = async (to: ReplyAddress, body: object) => {
    const out = addressed(to, body, from, clock.now() / 1000)
    await broker.publish(out.topic, out.payload, { qos: 1 })
  }
  return {
    reply,
    async replyBytes(to, body) {
      const payload = new JsonBytes(envelopeBytes(body, from, to.to, clock.now() / 1000, to.echo))
      await broker.publish(to.topic, payload, { qos: 1 })
    },
    async reject(message, to, text, extra = {}) {
      events.emit('input.rejected', { topic: message.topic, client: senderNode(message), message: text })
      if (to) await reply(to, refusal(text, extra))
    },
  }
}
