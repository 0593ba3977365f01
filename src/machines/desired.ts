/**
 * PURE reconciler rules (DESIGN §5, STYLE §2.3): what a machine must be doing now, whether a
 * command is needed to get it there, and whether a node's command may take the machine.
 * Priority: admin override > schedule > kiosk/reservation direct command > idle.
 */
import type { Err } from '../lib/result.js'
import { registeredOffset } from '../lib/tzif.js'
import type { CommandStatus, DesiredState, MachineOverride } from '../protocol/messages.js'
import { sameTarget, targetOf, type Target } from './commands.js'
import type { CommandRequester, MachinesErrorCode } from './types.js'

/** A durable command held by a node: an admin override or a kiosk/reservation direct command. */
export interface HeldCommand {
  source: CommandRequester['source']
  node: string
  status: CommandStatus
  session_id: number | null
  scheduled_until: number | null
  set_at: number
}

export interface Holds {
  admin: HeldCommand | null
  direct: HeldCommand | null
  /** what the schedule requires now (deps.desiredStateFor) */
  schedule: DesiredState | undefined
}

export const IDLE: DesiredState = { status: 'idle', session_id: null, scheduled_until: null, source: 'default' }

export function isLive(h: HeldCommand | null, nowS: number): h is HeldCommand {
  return h !== null && (h.scheduled_until === null || h.scheduled_until > nowS)
}

export function holderOf(h: HeldCommand): string {
  if (h.source === 'admin') return `an admin override (${h.status})`
  return h.session_id !== null ? `session ${h.session_id} (${h.node})` : h.node
}

function fromHeld(h: HeldCommand): DesiredState {
  return { status: h.status, session_id: h.session_id, scheduled_until: h.scheduled_until, source: h.source, holder: holderOf(h) }
}

export function chooseDesired(holds: Holds, nowS: number): DesiredState {
  if (isLive(holds.admin, nowS)) return fromHeld(holds.admin)
  if (holds.schedule) return holds.schedule
  if (isLive(holds.direct, nowS)) return fromHeld(holds.direct)
  return IDLE
}

/**
 * Send a command when the desired target differs from what is in flight, or (nothing in
 * flight) from what the machine reported. `force` after a (re)connect: the stored report may
 * predate a reboot, so the required state is always sent (DESIGN §4).
 */
export function needsCommand(desired: Target, reported: Target | null, inFlight: Target | null, force: boolean): boolean {
  if (inFlight) return !sameTarget(inFlight, desired)
  if (force || !reported) return true
  return !sameTarget(reported, desired)
}

export type OverrideDecision =
  | { kind: 'same' }
  | { kind: 'set'; slot: 'admin' | 'direct'; held: HeldCommand }
  | { kind: 'release'; slot: 'admin' | 'direct' }
  | Err<MachinesErrorCode>

type FormatTime = (epochS: number) => string

export function heldMessage(id: number, holder: string, until: number | null, fmt: FormatTime): string {
  return `machine ${id} is held by ${holder}${until !== null ? ` until ${fmt(until)}` : ''}`
}

/** Decides an override request against the current holds (DESIGN §5 priority rules). */
export function decideOverride(cmd: MachineOverride, by: CommandRequester, holds: Holds, nowS: number, fmt: FormatTime): OverrideDecision {
  const until = cmd.scheduled_until ?? null
  if (!cmd.release && until !== null && until <= nowS) return invalid('scheduled_until: is in the past', 'scheduled_until')
  const held: HeldCommand = { source: by.source, node: by.node, status: cmd.status, session_id: cmd.session_id ?? null, scheduled_until: until, set_at: nowS }
  return by.source === 'admin' ? decideAdmin(cmd, held, holds, nowS) : decideDirect(cmd, held, holds, nowS, fmt)
}

function decideAdmin(cmd: MachineOverride, held: HeldCommand, holds: Holds, nowS: number): OverrideDecision {
  if (cmd.release) return isLive(holds.admin, nowS) ? { kind: 'release', slot: 'admin' } : { kind: 'same' }
  if (isLive(holds.admin, nowS) && sameTarget(targetOf(holds.admin), targetOf(held))) return { kind: 'same' }
  return { kind: 'set', slot: 'admin', held }
}

function decideDirect(cmd: MachineOverride, held: HeldCommand, holds: Holds, nowS: number, fmt: FormatTime): OverrideDecision {
  const id = cmd.machine_id
  const direct = isLive(holds.direct, nowS) ? holds.direct : null
  if (cmd.release) {
    if (direct && direct.node === held.node) return { kind: 'release', slot: 'direct' }
    if (direct) return held_(heldMessage(id, holderOf(direct), direct.scheduled_until, fmt))
    // A kiosk cannot release what an admin holds: refused naming the hold, not "released" with
    // nothing done (the fuzzer found kiosks told success for an admin's maintenance).
    if (isLive(holds.admin, nowS)) return held_(heldMessage(id, holderOf(holds.admin), holds.admin.scheduled_until, fmt))
    return { kind: 'same' }
  }
  if (isLive(holds.admin, nowS)) return held_(heldMessage(id, holderOf(holds.admin), holds.admin.scheduled_until, fmt))
  if (holds.schedule) {
    // Asking for exactly what the schedule already requires is not a conflict.
    if (sameTarget(targetOf(holds.schedule), targetOf(held))) return { kind: 'same' }
    return held_(heldMessage(id, holds.schedule.holder ?? 'the schedule', holds.schedule.scheduled_until, fmt))
  }
  if (held.scheduled_until === null) {
    return invalid('scheduled_until: is required for kiosk and reservation commands', 'scheduled_until')
  }
  if (direct && sameTarget(targetOf(direct), targetOf(held))) return { kind: 'same' }
  if (direct && direct.node !== held.node) return held_(heldMessage(id, holderOf(direct), direct.scheduled_until, fmt))
  return { kind: 'set', slot: 'direct', held }
}

const invalid = (message: string, field: string): Err<MachinesErrorCode> => ({ ok: false, code: 'MACHINE_INVALID', message, field })
const held_ = (message: string): Err<MachinesErrorCode> => ({ ok: false, code: 'MACHINE_HELD', message })

/**
 * "11:30:00" in the hub's zone, for refusal messages. From the zone's tz database file when the
 * hub registered it (src/lib/tzif.ts); Intl only for a zone it did not (its first use costs ~8 MB
 * of RSS, issue 17), made when first needed.
 */
export function clockFormatter(timeZone: string): FormatTime {
  let intl: Intl.DateTimeFormat | undefined
  const two = (n: number) => String(n).padStart(2, '0')
  return (epochS) => {
    const second = Math.floor(epochS)
    const offset = registeredOffset(timeZone, second)
    if (offset !== undefined) {
      const local = new Date((second + offset) * 1000)
      return `${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())}`
    }
    intl ??= new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
    return intl.format(new Date(epochS * 1000))
  }
}
