/**
 * PURE command tracker (DESIGN §5): a command goes out with QoS 1 and an exchange_id; a
 * missing Confirmation after the timeout is resent with backoff (timeout x 1, 2, 4, ...),
 * `tries` sends in all; then it has failed. The same exchange_id is reused on every resend,
 * so a late Confirmation of an earlier send still confirms and the machine can drop repeats.
 */
import type { DesiredState, MachineConfirmation, MachineControl } from '../protocol/messages.js'
import { NodeNames, machineNodeName } from '../protocol/topics.js'

export interface CommandPolicy {
  timeoutMs: number
  /** sends in all, first included (HUB_COMMAND_RETRIES) */
  tries: number
}

/** What a command asks of a machine; two commands with the same target are the same command. */
export interface Target {
  status: MachineControl['status']
  session_id: number | null
  scheduled_until: number | null
}

export interface InFlight {
  command: MachineControl
  /** 1-based number of the current send */
  attempt: number
  firstSentMs: number
  /** when the current send times out */
  dueMs: number
}

export type TimeoutOutcome = { kind: 'resend'; next: InFlight } | { kind: 'fail'; reason: string }

export type ConfirmationOutcome = { kind: 'confirmed'; latencyMs: number } | { kind: 'refused'; message: string }

export function buildControl(machineId: number, target: Target, exchangeId: number, nowMs: number): MachineControl {
  return {
    machine_id: machineId,
    session_id: target.session_id,
    status: target.status,
    scheduled_until: target.scheduled_until,
    timestamp: nowMs / 1000,
    exchange_id: exchangeId,
    origin_node: NodeNames.machineHandler,
    destination_node: machineNodeName(machineId),
  }
}

export function targetOf(desired: DesiredState | Target): Target {
  return { status: desired.status, session_id: desired.session_id ?? null, scheduled_until: desired.scheduled_until ?? null }
}

/** Equal targets; times within 1 ms count as equal (they travel as float seconds). */
export function sameTarget(a: Target, b: Target): boolean {
  return (
    a.status === b.status &&
    (a.session_id ?? null) === (b.session_id ?? null) &&
    sameTime(a.scheduled_until ?? null, b.scheduled_until ?? null)
  )
}

function sameTime(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b
  return Math.abs(a - b) < 0.001
}

/** How long send number `attempt` waits for its Confirmation. */
export function waitMs(attempt: number, policy: CommandPolicy): number {
  return policy.timeoutMs * 2 ** (attempt - 1)
}

export function firstSend(command: MachineControl, nowMs: number, policy: CommandPolicy): InFlight {
  return { command, attempt: 1, firstSentMs: nowMs, dueMs: nowMs + waitMs(1, policy) }
}

export function onTimeout(f: InFlight, nowMs: number, policy: CommandPolicy): TimeoutOutcome {
  if (f.attempt >= policy.tries) {
    const waited = ((nowMs - f.firstSentMs) / 1000).toFixed(1)
    return { kind: 'fail', reason: `no confirmation after ${f.attempt} tries (${waited} s)` }
  }
  const attempt = f.attempt + 1
  // A fresh timestamp: the machine measures its fail-safe from scheduled_until - timestamp (DESIGN §4).
  const command = { ...f.command, timestamp: nowMs / 1000 }
  return { kind: 'resend', next: { command, attempt, firstSentMs: f.firstSentMs, dueMs: nowMs + waitMs(attempt, policy) } }
}

/** Does this Confirmation (from `machineId`) answer the command in flight? */
export function answers(f: InFlight, machineId: number, c: MachineConfirmation): boolean {
  return f.command.machine_id === machineId && c.exchange_id === f.command.exchange_id
}

export function confirmationOutcome(f: InFlight, c: MachineConfirmation, nowMs: number): ConfirmationOutcome {
  if (!c.success) return { kind: 'refused', message: c.message ?? 'the machine refused the command' }
  return { kind: 'confirmed', latencyMs: Math.max(0, nowMs - f.firstSentMs) }
}

/**
 * Exchange ids unique across restarts without a write per command: ids are taken from a
 * durably reserved block; after a restart (even kill -9) numbering resumes after the block.
 * The next block is reserved once half of the current one is used, so a burst of sends (every
 * bay of a changeover at once, issue 17) takes ids already durable and never waits for an fsync.
 */
export interface ExchangeIds {
  next: number
  /** ids below this are reserved (or being reserved: the driver knows which write is durable) */
  reservedUntil: number
}

export const EXCHANGE_BLOCK = 10_000

export function restoreExchangeIds(reservedUntil: number | undefined): ExchangeIds {
  const start = Math.max(1, reservedUntil ?? 1)
  return { next: start, reservedUntil: start }
}

/**
 * Takes one id; `reserve` is set when a new reservation must be written: before the id is used
 * when the id lies past every reservation, else ahead of need (half the block left).
 */
export function takeExchangeId(s: ExchangeIds): { id: number; state: ExchangeIds; reserve: number | null } {
  const id = s.next
  if (id >= s.reservedUntil) {
    const reservedUntil = id + EXCHANGE_BLOCK
    return { id, state: { next: id + 1, reservedUntil }, reserve: reservedUntil }
  }
  if (s.reservedUntil - id > EXCHANGE_BLOCK / 2) return { id, state: { ...s, next: id + 1 }, reserve: null }
  const reservedUntil = s.reservedUntil + EXCHANGE_BLOCK
  return { id, state: { next: id + 1, reservedUntil }, reserve: reservedUntil }
}
