/**
 * internal/admin feed (DESIGN §4): every machine and session change, alert, and the
 * Confirmation (or failure) of every machine command, so an admin node sees the outcome of
 * its override. Session changes also go to the node that owns the session.
 */
import type { Logger } from 'pino'
import type { BrokerPort } from '../../broker/port.js'
import type { Clock } from '../../lib/clock.js'
import type { EventBus } from '../../lib/event-bus.js'
import { envelope } from '../../protocol/envelope.js'
import type { HubEvents } from '../../protocol/events.js'
import { NodeNames, Topics, isValidNodeName, machineNodeName, replyTopic } from '../../protocol/topics.js'

export interface AdminFeedDeps {
  broker: BrokerPort
  events: EventBus<HubEvents>
  clock: Clock
  log?: Logger
}

const OWNER = 'mqtt-admin-feed'

export function createAdminFeed(deps: AdminFeedDeps): { stop(): void } {
  const { broker, events, clock, log } = deps

  const send = (topic: string, body: object, from: string, to: string) => {
    const payload = envelope(body, from, to, clock.now() / 1000)
    broker.publish(topic, payload, { qos: 1 }).catch((error: unknown) => log?.warn({ err: error, topic }, 'admin feed publish failed'))
  }
  const toAdmin = (body: object, from: string) => send(Topics.admin, body, from, NodeNames.admin)

  events.on('machine.changed', OWNER, ({ machine }) => toAdmin(machine, NodeNames.machineHandler))

  events.on('session.changed', OWNER, ({ change, session }) => {
    const body = { ...session, change }
    toAdmin(body, NodeNames.scheduleManager)
    const owner = session.origin_node
    const toOwner = isValidNodeName(owner) && replyTopic(owner) !== Topics.admin
    if (toOwner) send(replyTopic(owner), body, NodeNames.scheduleManager, owner)
    // issue 12: the owner of a paid booking gets a Confirmation of the payment (a held kiosk booking may now start).
    if (change === 'paid' && toOwner) {
      const payment = session.payments?.at(-1)
      const confirmation = { success: true, session_id: session.session_id, status: session.status, machine_id: session.machine_id, ...(payment && { payment }), message: payment?.kind === 'refund_requested' ? `paid after the hold expired; refund requested` : 'paid' }
      send(replyTopic(owner), confirmation, NodeNames.scheduleManager, owner)
    }
  })

  // issue 11: a session's bay stopped working (or recovered): staff and the session's owner hear of it
  events.on('session.affected', OWNER, ({ affected }) => {
    const body = { ...affected, event: 'session.affected' }
    toAdmin(body, NodeNames.scheduleManager)
    const owner = affected.owner
    if (isValidNodeName(owner) && replyTopic(owner) !== Topics.admin) send(replyTopic(owner), body, NodeNames.scheduleManager, owner)
  })
  events.on('credit.changed', OWNER, ({ change, credit }) => toAdmin({ ...credit, change, event: 'credit.changed' }, NodeNames.scheduleManager))

  events.on('alert.raised', OWNER, ({ alert }) => toAdmin({ ...alert, event: 'alert.raised' }, NodeNames.machineHandler))
  events.on('alert.cleared', OWNER, ({ alert }) => toAdmin({ ...alert, event: 'alert.cleared' }, NodeNames.machineHandler))
  // issue 15: the hub's clock lost or regained trust, or stepped
  events.on('clock.changed', OWNER, ({ clock, stepMs, reason }) => toAdmin({ event: 'clock.changed', clock, step_ms: stepMs, reason }, NodeNames.scheduleManager))

  // The machine's own Confirmation, relayed as it came (origin: the machine).
  events.on('command.confirmed', OWNER, ({ command, confirmation, latencyMs }) =>
    toAdmin(
      {
        ...confirmation,
        success: confirmation.success,
        machine_id: command.machine_id,
        exchange_id: command.exchange_id,
        session_id: command.session_id,
        status: confirmation.status ?? command.status,
        latency_ms: latencyMs,
      },
      machineNodeName(command.machine_id),
    ),
  )
  // A refused or unconfirmed command, reported by the hub.
  events.on('command.failed', OWNER, ({ command, reason }) =>
    toAdmin(
      {
        success: false,
        machine_id: command.machine_id,
        exchange_id: command.exchange_id,
        session_id: command.session_id,
        status: command.status,
        message: `machine ${command.machine_id}: ${reason}`,
      },
      NodeNames.machineHandler,
    ),
  )

  return { stop: () => events.off(OWNER) }
}
