/**
 * The thin impure side of commands.ts: publishes controls with QoS 1, arms one timer per
 * command in flight, resends, and reports the outcome. At most one command per machine is
 * in flight; a new target supersedes the old one (its late Confirmation is then ignored).
 * Commands are never queued for an offline machine (DESIGN §4): `abandon` on disconnect.
 */
import type { Logger } from 'pino'
import type { BrokerPort } from '../broker/port.js'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import type { HubEvents } from '../protocol/events.js'
import type { MachineConfirmation, MachineControl } from '../protocol/messages.js'
import { machineTopic } from '../protocol/topics.js'
import {
  answers,
  buildControl,
  confirmationOutcome,
  firstSend,
  onTimeout,
  restoreExchangeIds,
  takeExchangeId,
  targetOf,
  type CommandPolicy,
  type InFlight,
  type Target,
} from './commands.js'
import type { MachineStore } from './store.js'
import type { MachinesStats } from './types.js'

export interface CommandOutcomes {
  confirmed(command: MachineControl, confirmation: MachineConfirmation): void
  refused(command: MachineControl, confirmation: MachineConfirmation, message: string): void
  failed(command: MachineControl, reason: string): void
}

export interface CommandDriverDeps {
  broker: BrokerPort
  clock: Clock
  events: EventBus<HubEvents>
  log: Logger
  store: MachineStore
  policy: CommandPolicy
  outcomes: CommandOutcomes
}

export interface CommandDriver {
  /** Resumes exchange ids after the stored reservation and durably reserves the first block. */
  restore(exchangeReservedUntil: number | undefined): Promise<void>
  /**
   * Resolves once the control is on the machine's socket (the broker's publish callback), or
   * failed there (logged; the retry timer covers it); at once when nothing was sent.
   */
  send(machineId: number, target: Target): Promise<void>
  /** target of the command in flight, if any */
  inFlight(machineId: number): Target | null
  /** true when the Confirmation answered the command in flight */
  confirm(machineId: number, confirmation: MachineConfirmation): boolean
  abandon(machineId: number): void
  /** publish the command in flight again now, same exchange id, same retry timer */
  republish(machineId: number): void
  stats(online: number): MachinesStats
  stop(): void
}

const LATENCY_SAMPLES = 100

export function createCommandDriver(deps: CommandDriverDeps): CommandDriver {
  const { broker, clock, events, log, store, policy, outcomes } = deps
  const flights = new Map<number, { flight: InFlight; cancel: () => void; published: boolean }>()
  let ids = restoreExchangeIds(undefined)
  let reservation: Promise<void> = Promise.resolve()
  /** ids below this are durably reserved: they may go out at once */
  let durable = 0

  const reserve = (until: number) => {
    reservation = store.reserveExchangeIds(until).then(
      () => {
        durable = Math.max(durable, until)
      },
      (error: unknown) => {
        // Not on disk: the next id past `durable` asks for the reservation again.
        ids = { ...ids, reservedUntil: Math.min(ids.reservedUntil, Math.max(durable, ids.next)) }
        throw error
      },
    )
  }
  const counts = { sent: 0, confirmed: 0, failed: 0 }
  const latencies: number[] = []
  let stopped = false

  /** Resolves when the broker has handed the control to the machine's socket (or failed to). */
  const publish = (flight: InFlight, announce = true): Promise<void> => {
    // Stamp every (re)send with the time it leaves: the dispenser's fail-safe runs for
    // scheduled_until - timestamp on its own clock, so a retry must not carry the first try's time.
    const command = { ...flight.command, timestamp: clock.now() / 1000 }
    if (announce) events.emit('command.sent', { command, attempt: flight.attempt })
    return broker.publish(machineTopic(command.machine_id), command, { qos: 1 }).catch((error: unknown) => {
      log.warn({ err: error, machineId: flight.command.machine_id }, 'command publish failed; the retry timer covers it')
    })
  }

  const arm = (flight: InFlight) => {
    const id = flight.command.machine_id
    const cancel = clock.setTimeout(() => expire(id, flight), flight.dueMs - clock.now())
    flights.set(id, { flight, cancel, published: true })
  }

  const expire = (id: number, flight: InFlight) => {
    if (flights.get(id)?.flight !== flight) return
    const next = onTimeout(flight, clock.now(), policy)
    if (next.kind === 'resend') {
      log.info({ machineId: id, exchangeId: flight.command.exchange_id, attempt: next.next.attempt }, 'no confirmation; resending')
      arm(next.next)
      void publish(next.next)
      return
    }
    flights.delete(id)
    counts.failed++
    log.warn({ machineId: id, exchangeId: flight.command.exchange_id, reason: next.reason }, 'command failed')
    outcomes.failed(flight.command, next.reason)
  }

  const drop = (id: number) => {
    flights.get(id)?.cancel()
    flights.delete(id)
  }

  return {
    async restore(reservedUntil) {
      const taken = takeExchangeId(restoreExchangeIds(reservedUntil))
      // Reserve now so the first commands after start-up need no write before they go out.
      ids = { ...taken.state, next: taken.id }
      if (taken.reserve !== null) reserve(taken.reserve)
      await reservation
    },
    async send(machineId, target) {
      if (stopped) return
      const taken = takeExchangeId(ids)
      ids = taken.state
      if (taken.reserve !== null) reserve(taken.reserve)
      drop(machineId)
      const flight = firstSend(buildControl(machineId, target, taken.id, clock.now()), clock.now(), policy)
      flights.set(machineId, { flight, cancel: () => undefined, published: false })
      // The id's block must be durable before the id goes out (unique across kill -9); blocks
      // are reserved ahead, so this waits only on the first command after start or a failed write.
      if (taken.id >= durable) {
        await reservation
        if (flights.get(machineId)?.flight !== flight) return // superseded or abandoned meanwhile
      }
      counts.sent++
      const armed = { ...flight, firstSentMs: clock.now(), dueMs: clock.now() + policy.timeoutMs }
      arm(armed)
      await publish(armed)
    },
    inFlight: (id) => {
      const f = flights.get(id)
      return f ? targetOf(f.flight.command) : null
    },
    confirm(machineId, confirmation) {
      const entry = flights.get(machineId)
      if (!entry || !answers(entry.flight, machineId, confirmation)) return false
      drop(machineId)
      const outcome = confirmationOutcome(entry.flight, confirmation, clock.now())
      if (outcome.kind === 'refused') {
        counts.failed++
        outcomes.refused(entry.flight.command, confirmation, outcome.message)
        return true
      }
      counts.confirmed++
      latencies.push(outcome.latencyMs)
      if (latencies.length > LATENCY_SAMPLES) latencies.shift()
      events.emit('command.confirmed', { command: entry.flight.command, confirmation, latencyMs: outcome.latencyMs })
      outcomes.confirmed(entry.flight.command, confirmation)
      return true
    },
    abandon: drop,
    republish(machineId) {
      const entry = flights.get(machineId)
      if (entry?.published) void publish(entry.flight, false)
    },
    stats: (online) => ({ online, commandsSent: counts.sent, commandsConfirmed: counts.confirmed, commandsFailed: counts.failed, recentLatenciesMs: latencies.slice() }),
    stop() {
      stopped = true
      for (const id of [...flights.keys()]) drop(id)
    },
  }
}
