/**
 * The public surface of the scheduling module: one booking rule behind two doors
 * (MQTT internal/manager and HTTP). main.ts wires it (STYLE §2.3).
 */
import type { Result } from '../lib/result.js'
import type { DesiredState, Schedule, Session, SessionRecord } from '../protocol/messages.js'

export type SchedulingErrorCode =
  | 'SESSION_CONFLICT' // overlaps another session on a bay; message names session and bay
  | 'SESSION_NOT_FOUND'
  | 'SESSION_ENDED' // completed or cancelled: cannot change
  | 'SESSION_INVALID' // bad field content (e.g. missing duration, start far in the past); field named
  | 'BAYS_NOT_ADJACENT' // group booking not on adjacent bays of one row
  | 'MACHINE_UNKNOWN'
  | 'SESSION_FORBIDDEN' // the requester may not change this session

export interface SubmitOptions {
  /** authenticated node that submits (owner of new sessions) */
  origin: string
  /** admins may change any session; others only their own */
  isAdmin?: boolean
  /** id of the reservation in an upstream system (cloud sync), for idempotent repeats */
  externalId?: string
}

export interface SubmitOutcome {
  session: SessionRecord
  /** true when this was an idempotent repeat: nothing changed */
  replay: boolean
}

export interface AvailabilityQuery {
  /** number of adjacent bays wanted */
  bays: number
  /** session length in minutes */
  minutes: number
  /** preferred start, epoch seconds (default: now) */
  near?: number
  /** how many options (default 5) */
  limit?: number
}

export interface AvailabilityOption {
  machine_id: number[]
  start_time: number
  end_time: number
}

export interface SessionFilter {
  from?: number
  to?: number
  machineId?: number
  status?: SessionRecord['status']
}

export interface Scheduling {
  /** Create, update (same session_id, other content) or cancel (status cancelled). Resolves after the durable write. */
  submit(session: Session, options: SubmitOptions): Promise<Result<SubmitOutcome, SchedulingErrorCode>>
  cancel(sessionId: number, options: SubmitOptions): Promise<Result<SubmitOutcome, SchedulingErrorCode>>
  get(sessionId: number): SessionRecord | undefined
  findByExternalId(externalId: string): SessionRecord | undefined
  list(filter?: SessionFilter): SessionRecord[]
  scheduleFor(date: string): Result<Schedule, SchedulingErrorCode>
  availability(query: AvailabilityQuery): Result<AvailabilityOption[], SchedulingErrorCode>
  /** What the schedule requires of a machine at `nowS` (epoch seconds); undefined = nothing scheduled. */
  desiredStateFor(machineId: number, nowS: number): DesiredState | undefined
  /** the hub's clock stepped (issue 15): run the lifecycle step at the new time now, not within a minute */
  recheck(): void
  start(): Promise<void>
  stop(): Promise<void>
}
