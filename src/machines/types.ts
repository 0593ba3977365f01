/**
 * The public surface of the machines module. Other modules and the interfaces use only this;
 * main.ts wires it (STYLE §2.3).
 */
import type { Result } from '../lib/result.js'
import type { Actor } from '../protocol/actor.js'
import type { Alert, AlertKind, BayProblem, DesiredState, MachineOverride, MachineReport, MachineState } from '../protocol/messages.js'

export type MachinesErrorCode =
  | 'MACHINE_UNKNOWN' // id not in HUB_MACHINES
  | 'MACHINE_HELD' // a higher-priority holder has the machine; message names it
  | 'MACHINE_INVALID' // bad command content
  | 'ALERT_UNKNOWN'
  | 'ALERT_OPEN' // only a cleared alert can be dismissed
  | 'OVERRIDE_UNCONFIRMED' // stop / maintenance would hit running or upcoming sessions: needs confirm and a reason; message names them

/** Who asks for a machine command; decides priority admin > schedule > kiosk/reservation (DESIGN §5). */
export interface CommandRequester {
  source: 'admin' | 'kiosk' | 'reservation'
  /** node name of the requester, for messages and logs */
  node: string
  /** who asks, for the audit log (default: the node) */
  actor?: Actor
}

/** Who acknowledges an alert, and why (audit log). */
export interface AckOptions {
  actor?: Actor
  reason?: string
}

export interface ReportEntry {
  received_at: number
  report: MachineReport
}

export interface MachinesStats {
  online: number
  commandsSent: number
  commandsConfirmed: number
  commandsFailed: number
  /** confirmation latencies in ms of recent commands (bounded) */
  recentLatenciesMs: readonly number[]
}

export interface Machines {
  list(): MachineState[]
  get(id: number): MachineState | undefined
  /** recent reports, oldest first, bounded per machine */
  history(id: number): ReportEntry[]
  /** Why the bay cannot dispense (so must not be sold) at `nowS`; undefined = healthy (issue 11). */
  health(id: number, nowS: number): BayProblem | undefined
  /** Admin/kiosk/reservation command; admin `release: true` returns the machine to the schedule. */
  override(command: MachineOverride, by: CommandRequester): Promise<Result<MachineState, MachinesErrorCode>>
  /** Drive these machines (default: all) from reported to desired state now. */
  reconcile(ids?: readonly number[]): void
  /**
   * issue 17: only the controls of these bays, now (a session starts or ends); the feeds hear of
   * it from the reconcile that follows the durable write (session.changed). Idempotent as reconcile.
   * Resolves when every control it sent is on its machine's socket (or failed there); never rejects.
   */
  drive(ids: readonly number[]): Promise<void>
  alerts(): Alert[]
  /**
   * Raise, update (new message) or clear (null) a bay's alert of `kind` that another module owns
   * (issue 11: `session_affected`, naming the sessions a broken bay affects). Durable when it resolves.
   */
  noteAlert(machineId: number, kind: AlertKind, message: string | null): Promise<void>
  /** Removes a cleared alert from the list (ALERT_OPEN while it is open, ALERT_UNKNOWN). */
  dismissAlert(alertId: string): Result<Alert, MachinesErrorCode>
  acknowledgeAlert(alertId: string, options?: AckOptions): Promise<Result<Alert, MachinesErrorCode>>
  stats(): MachinesStats
  start(): Promise<void>
  stop(): Promise<void>
}

/** A session on a bay, as the machines module needs to name it (from scheduling, via src/hub.ts). */
export interface BookingOnBay {
  session_id: number
  start_time: number
  end_time: number
  status: string
}

/** Injected by src/hub.ts: running or upcoming sessions on a bay overlapping [fromS, toS) (toS null: open-ended). */
export type BookingsOnFn = (machineId: number, fromS: number, toS: number | null) => BookingOnBay[]

/** Injected by main.ts: what the schedule requires of a machine at a time (epoch seconds). */
export type DesiredStateFn = (machineId: number, nowS: number) => DesiredState | undefined
