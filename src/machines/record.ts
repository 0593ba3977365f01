/**
 * What is kept per machine. `MachineRecord` is the durable part (survives kill -9 and
 * restart); the projection to MachineState is what every other part of the hub sees.
 */
import type { Alert, DesiredState, MachineState } from '../protocol/messages.js'
import type { HeldCommand } from './desired.js'
import type { Telemetry } from './telemetry.js'

export interface MachineRecord extends Telemetry {
  machine_id: number
  last_seen: number | null
  offline_reason: string | null
  /** hub-side error: a refused or unconfirmed command (cleared by the next confirmed one) */
  error: string | null
  admin: HeldCommand | null
  direct: HeldCommand | null
  /** open alerts */
  alerts: Alert[]
}

export function emptyRecord(id: number): MachineRecord {
  return {
    machine_id: id,
    reported_status: null,
    ball_level: null,
    session_id: null,
    scheduled_until: null,
    firmware: null,
    ip_address: null,
    rssi: null,
    uptime_s: null,
    last_seen: null,
    offline_reason: 'never connected',
    error: null,
    admin: null,
    direct: null,
    alerts: [],
  }
}

/** Effective status: offline when not connected, error when a command failed, else the report. */
export function toMachineState(r: MachineRecord, online: boolean, desired: DesiredState | null): MachineState {
  const status = !online ? 'offline' : r.error !== null ? 'error' : (r.reported_status ?? 'idle')
  return {
    machine_id: r.machine_id,
    status,
    online,
    reported_status: r.reported_status,
    ball_level: r.ball_level,
    session_id: r.session_id,
    scheduled_until: r.scheduled_until,
    desired,
    last_seen: r.last_seen,
    offline_reason: online ? null : r.offline_reason,
    firmware: r.firmware,
    ip_address: r.ip_address,
    rssi: r.rssi,
    uptime_s: r.uptime_s,
    error: r.error,
  }
}

/** What a heartbeat moves: no durable write and no 'machine.changed' of its own. */
type Heartbeat = 'last_seen' | 'rssi' | 'uptime_s'

/** Every other field; the check below fails to compile when a field is added and not listed. */
const DURABLE_FIELDS = [
  'machine_id', 'reported_status', 'ball_level', 'session_id', 'scheduled_until', 'firmware', 'ip_address', 'offline_reason', 'error', 'admin', 'direct',
] as const satisfies ReadonlyArray<Exclude<keyof MachineRecord, Heartbeat | 'alerts'>>
const SHOWN_FIELDS = [
  'machine_id', 'status', 'online', 'reported_status', 'ball_level', 'session_id', 'scheduled_until', 'offline_reason', 'firmware', 'ip_address', 'error',
] as const satisfies ReadonlyArray<Exclude<keyof MachineState, Heartbeat | 'desired'>>
/** the envelope fields a MachineState may carry on the wire; toMachineState never sets them */
type EnvelopeField = 'timestamp' | 'origin_node' | 'destination_node' | 'exchange_id'
type Unlisted<T, Listed> = Exclude<keyof T, Listed>
const everyField: [
  Unlisted<MachineRecord, (typeof DURABLE_FIELDS)[number] | Heartbeat | 'alerts'>,
  Unlisted<MachineState, (typeof SHOWN_FIELDS)[number] | Heartbeat | 'desired' | EnvelopeField>,
] extends [never, never]
  ? true
  : never = true
void everyField

/**
 * What counts as a change worth a durable write: everything but the fields a 30 s heartbeat
 * moves anyway (last_seen, rssi, uptime_s). 1,000 machines x heartbeat would otherwise mean
 * 33 synced writes a second on the Pi's SD card.
 *
 * Compared field by field, not as JSON (issue 17: two JSON texts per report and Confirmation,
 * thousands in a 1,000-bay changeover). Nested parts (admin, direct, each alert) are never changed
 * in place, only replaced, so a reference check finds every change; the alert list is compared
 * element by element because alerts.ts returns a fresh list even when nothing changed.
 */
export function sameDurable(a: MachineRecord, b: MachineRecord): boolean {
  for (const k of DURABLE_FIELDS) if (a[k] !== b[k]) return false
  return sameList(a.alerts, b.alerts)
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** The same rule for 'machine.changed' events: a change of anything but last_seen, rssi, uptime_s. */
export function sameShown(a: MachineState, b: MachineState): boolean {
  for (const k of SHOWN_FIELDS) if (a[k] !== b[k]) return false
  return sameDesired(a.desired, b.desired)
}

/** Desired states are built afresh on every reconcile: equal when every field is. */
function sameDesired(a: DesiredState | null, b: DesiredState | null): boolean {
  if (a === b) return true
  if (a === null || b === null) return false
  return a.status === b.status && a.session_id === b.session_id && a.scheduled_until === b.scheduled_until && a.source === b.source && a.holder === b.holder
}

/** last_seen is still refreshed on disk now and then, so a restart shows roughly when a machine was last heard. */
export const LAST_SEEN_WRITE_INTERVAL_S = 600
