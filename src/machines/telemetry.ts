/**
 * PURE report handling: keep what a machine last said about itself (its history: report-history.ts), and
 * ball-level alerts with hysteresis — raised once per level crossing, cleared only when the
 * hopper is refilled to medium or full, so a sensor flickering low/urgent does not spam staff.
 */
import type { AlertKind, BallLevel, MachineReport } from '../protocol/messages.js'

export interface Telemetry {
  reported_status: MachineReport['status'] | null
  ball_level: BallLevel | null
  session_id: number | null
  scheduled_until: number | null
  firmware: string | null
  ip_address: string | null
  rssi: number | null
  uptime_s: number | null
}

export function applyReport(prev: Telemetry, r: MachineReport): Telemetry {
  return {
    reported_status: r.status,
    ball_level: r.ball_level,
    session_id: r.session_id ?? null,
    scheduled_until: r.scheduled_until ?? null,
    firmware: r.firmware ?? prev.firmware,
    ip_address: r.ip_address ?? prev.ip_address,
    rssi: r.rssi ?? prev.rssi,
    uptime_s: r.uptime_s ?? prev.uptime_s,
  }
}

export type BallAlertKind = Extract<AlertKind, 'ball_low' | 'ball_urgent' | 'ball_empty'>
export const BALL_ALERTS: readonly BallAlertKind[] = ['ball_low', 'ball_urgent', 'ball_empty']

const SEVERITY: Record<BallLevel, number> = { full: 0, medium: 1, low: 2, urgent: 3, empty: 4 }

/** Which ball alerts to raise/clear when a machine reports `level`, given the active ones. */
export function ballAlertChanges(active: readonly AlertKind[], level: BallLevel): { raise: BallAlertKind | null; clear: BallAlertKind[] } {
  const activeBall = BALL_ALERTS.filter((k) => active.includes(k))
  if (SEVERITY[level] <= SEVERITY.medium) return { raise: null, clear: activeBall }
  const kind = `ball_${level}` as BallAlertKind
  const worstActive = Math.max(-1, ...activeBall.map((k) => SEVERITY[k.slice(5) as BallLevel]))
  return { raise: worstActive >= SEVERITY[level] ? null : kind, clear: [] }
}

export function ballAlertMessage(id: number, level: BallLevel): string {
  return level === 'empty' ? `machine ${id} is out of balls` : `machine ${id} ball level is ${level}`
}
