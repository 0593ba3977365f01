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

/**
 * What counts as a change worth a durable write: everything but the fields a 30 s heartbeat
 * moves anyway (last_seen, rssi, uptime_s). 1,000 machines x heartbeat would otherwise mean
 * 33 synced writes a second on the Pi's SD card.
 */
export function recordFingerprint(r: MachineRecord): string {
  const { last_seen: _l, rssi: _r, uptime_s: _u, ...rest } = r
  return JSON.stringify(rest)
}

/** The same rule for 'machine.changed' events. */
export function stateFingerprint(s: MachineState): string {
  const { last_seen: _l, rssi: _r, uptime_s: _u, timestamp: _t, ...rest } = s
  return JSON.stringify(rest)
}

/** last_seen is still refreshed on disk now and then, so a restart shows roughly when a machine was last heard. */
export const LAST_SEEN_WRITE_INTERVAL_S = 600
