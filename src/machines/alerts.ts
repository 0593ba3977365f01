/**
 * PURE alert bookkeeping: at most one open alert per (machine, kind); raising an open kind
 * again is a no-op, so repeated reports or retries do not flood staff. One alert per condition
 * episode (issue 11): a condition that comes back within REOPEN_WINDOW_S of clearing (low ->
 * medium -> low as the hopper sensor wavers) reopens the alert it cleared instead of raising a
 * second one.
 */
import type { Alert, AlertKind } from '../protocol/messages.js'

export function raiseAlert(
  open: readonly Alert[],
  kind: AlertKind,
  machineId: number,
  message: string,
  nowS: number,
): { open: Alert[]; raised: Alert | null } {
  if (open.some((a) => a.kind === kind)) return { open: open.slice(), raised: null }
  const raised: Alert = {
    alert_id: `${machineId}-${kind}-${Math.round(nowS * 1000).toString(36)}`,
    kind,
    machine_id: machineId,
    message,
    raised_at: nowS,
    acknowledged: false,
    cleared_at: null,
  }
  return { open: [...open, raised], raised }
}

/** The open alert of `kind` with a new message (e.g. the list of affected sessions grew); null when unchanged or none. */
export function updateAlert(open: readonly Alert[], kind: AlertKind, message: string): { open: Alert[]; updated: Alert | null } {
  const found = open.find((a) => a.kind === kind)
  if (!found || found.message === message) return { open: open.slice(), updated: null }
  const updated = { ...found, message }
  return { open: open.map((a) => (a === found ? updated : a)), updated }
}

/** A condition back within this long of its clearing is the same episode. */
export const REOPEN_WINDOW_S = 300

/** The recently cleared alert of (machine, kind) a new raise should reopen, if any. */
export function reopenable(cleared: readonly Alert[], machineId: number, kind: AlertKind, nowS: number): Alert | undefined {
  let found: Alert | undefined
  for (const a of cleared) {
    if (a.machine_id !== machineId || a.kind !== kind || a.cleared_at === null || nowS - a.cleared_at > REOPEN_WINDOW_S) continue
    if (!found || a.cleared_at > found.cleared_at!) found = a
  }
  return found
}

/** The same alert open again: same id, the new message, counted. */
export function reopen(alert: Alert, message: string): Alert {
  return { ...alert, message, cleared_at: null, reopened: (alert.reopened ?? 0) + 1 }
}

export function clearAlerts(open: readonly Alert[], kinds: readonly AlertKind[], nowS: number): { open: Alert[]; cleared: Alert[] } {
  const cleared = open.filter((a) => kinds.includes(a.kind)).map((a) => ({ ...a, cleared_at: nowS }))
  return { open: open.filter((a) => !kinds.includes(a.kind)), cleared }
}

export function acknowledge(list: readonly Alert[], alertId: string): { list: Alert[]; alert: Alert | null } {
  const found = list.find((a) => a.alert_id === alertId)
  if (!found) return { list: list.slice(), alert: null }
  // already acknowledged: the same object, so the record compares unchanged and nothing is written
  if (found.acknowledged) return { list: list.slice(), alert: found }
  const alert = { ...found, acknowledged: true }
  return { list: list.map((a) => (a === found ? alert : a)), alert }
}
