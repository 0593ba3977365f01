/**
 * The dispenser adapter (DESIGN §4 "Dispensers"): external/handler -> reports and
 * Confirmations, over BrokerPort only. Bad input is answered on the machine's own topic
 * with a Confirmation naming the field and never changes state (DESIGN §4 "Bad input").
 */
import type { Logger } from 'pino'
import type { BrokerPort, InboundMessage } from '../broker/port.js'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import { decoderFor } from '../protocol/codec.js'
import type { HubEvents } from '../protocol/events.js'
import { MachineConfirmation, MachineReport } from '../protocol/messages.js'
import { NodeNames, Topics, machineIdFromNode, machineNodeName, machineTopic } from '../protocol/topics.js'
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

const decodeReport = decoderFor(MachineReport)
const decodeConfirmation = decoderFor(MachineConfirmation)

/** The machine a message comes from: its authenticated identity; in-process and dev clients are trusted by name or payload. */
function senderOf(message: InboundMessage, payload: unknown): number | undefined {
  const c = message.client
  if (c?.kind === 'machine') return c.machineId
  if (c?.kind === 'node') return undefined // nodes may not speak for machines (the broker ACL also refuses)
  const claimed = (payload as { machine_id?: unknown } | null)?.machine_id
  const byName = c ? machineIdFromNode(c.clientId) : undefined
  return byName ?? (typeof claimed === 'number' ? claimed : undefined)
}

function parse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'))
  } catch {
    return undefined
  }
}

export function createDispenserAdapter(deps: DispenserAdapterDeps): { stop(): void } {
  const { broker, clock, events, log, registry, handlers } = deps

  const reject = (machineId: number | undefined, message: InboundMessage, text: string, exchangeId?: unknown) => {
    const client = message.client?.clientId ?? 'hub'
    events.emit('input.rejected', { topic: message.topic, client, message: text })
    log.warn({ machineId, client, reason: text }, 'bad input on external/handler')
    if (machineId === undefined || !registry.has(machineId)) return
    const reply = {
      success: false,
      message: text,
      machine_id: machineId,
      ...(typeof exchangeId === 'number' && Number.isInteger(exchangeId) && exchangeId >= 0 && { exchange_id: exchangeId }),
      timestamp: clock.now() / 1000,
      origin_node: NodeNames.machineHandler,
      destination_node: machineNodeName(machineId),
    }
    broker.publish(machineTopic(machineId), reply, { qos: 1 }).catch((error: unknown) => log.warn({ err: error }, 'reply failed'))
  }

  const handle = (message: InboundMessage) => {
    const value = parse(message.payload)
    const sender = senderOf(message, value)
    if (value === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) {
      return reject(sender, message, '(payload): payload is not a JSON object')
    }
    const exchangeId = (value as { exchange_id?: unknown }).exchange_id
    if (sender === undefined) return reject(undefined, message, `(sender): ${message.client?.clientId ?? 'hub'} is not a machine`)
    if (!registry.has(sender)) return reject(sender, message, `machine_id: machine ${sender} is not served by this hub`)
    const isConfirmation = 'success' in value
    const decoded = isConfirmation ? decodeConfirmation.check(value) : decodeReport.check(value)
    if (!decoded.ok) return reject(sender, message, decoded.message, exchangeId)
    const claimed = (decoded.value as { machine_id?: number }).machine_id
    if (claimed !== undefined && claimed !== sender) {
      return reject(sender, message, `machine_id: ${claimed} is not the sender (machine ${sender})`, exchangeId)
    }
    if (isConfirmation) handlers.confirmation(sender, decoded.value as MachineConfirmation)
    else handlers.report(sender, decoded.value as MachineReport)
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
