/**
 * The dispenser adapter (DESIGN §4 "Dispensers"): external/handler -> reports and
 * Confirmations, over BrokerPort only. Input comes through decodeInbound (one capped parse,
 * the sender's identity checked against its login, unknown fields dropped). Bad input is
 * answered on the machine's own topic with a Confirmation naming the field and never changes
 * state (DESIGN §4 "Bad input").
 */
import type { Logger } from 'pino'
import type { BrokerPort, InboundMessage } from '../broker/port.js'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import { addressed, refusal, type ReplyAddress } from '../protocol/envelope.js'
import type { HubEvents } from '../protocol/events.js'
import { decodeInbound } from '../protocol/inbound.js'
import type { MachineConfirmation, MachineReport } from '../protocol/messages.js'
import { NodeNames, Topics } from '../protocol/topics.js'
import type { Registry } from './registry.js'

export interface DispenserHandlers {
  report(machineId: number, report: MachineReport): void
  confirmation(machineId: number, confirmation: MachineConfirmation): void
}

export interface DispenserAdapterDeps {
  broker: BrokerPort
  clock: Clock
  events: EventBus<HubEvents>
  log: Logger
  registry: Registry
  handlers: DispenserHandlers
}

export function createDispenserAdapter(deps: DispenserAdapterDeps): { stop(): void } {
  const { broker, clock, events, log, registry, handlers } = deps

  /** Counted and logged; answered only on a served machine's own topic (nobody else listens there). */
  const reject = (message: InboundMessage, machineId: number | undefined, to: ReplyAddress | undefined, text: string) => {
    const client = message.client?.clientId ?? 'hub'
    events.emit('input.rejected', { topic: message.topic, client, message: text })
    log.warn({ machineId, client, reason: text }, 'bad input on external/handler')
    if (machineId === undefined || !registry.has(machineId) || !to) return
    const out = addressed(to, refusal(text, { machine_id: machineId }), NodeNames.machineHandler, clock.now() / 1000)
    broker.publish(out.topic, out.payload, { qos: 1 }).catch((error: unknown) => log.warn({ err: error }, 'reply failed'))
  }

  const handle = (message: InboundMessage) => {
    const decoded = decodeInbound(message.topic, message.payload, message.client)
    if (!decoded.ok) {
      const id = decoded.sender?.kind === 'machine' ? decoded.sender.machineId : undefined
      return reject(message, id, decoded.reply, decoded.message)
    }
    if (decoded.sender.kind !== 'machine') return // decodeInbound admits only machines here
    const id = decoded.sender.machineId
    if (!registry.has(id)) return reject(message, id, decoded.reply, `machine_id: machine ${id} is not served by this hub`)
    if (decoded.kind === 'confirmation') handlers.confirmation(id, decoded.value)
    else if (decoded.kind === 'report') handlers.report(id, decoded.value)
  }

  const off = broker.onMessage(Topics.machineHandler, (message) => {
    try {
      handle(message)
    } catch (error) {
      log.error({ err: error, topic: message.topic }, 'external/handler message failed')
    }
  })
  return { stop: off }
}
