/**
 * PURE alert bookkeeping: at most one open alert per (machine, kind); raising an open kind
 * again is a no-op, so repeated reports or retries do not flood staff.
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

export function clearAlerts(open: readonly Alert[], kinds: readonly AlertKind[], nowS: number): { open: Alert[]; cleared: Alert[] } {
  const cleared = open.filter((a) => kinds.includes(a.kind)).map((a) => ({ ...a, cleared_at: nowS }))
  return { open: open.filter((a) => !kinds.includes(a.kind)), cleared }
}

export function acknowledge(list: readonly Alert[], alertId: string): { list: Alert[]; alert: Alert | null } {
  const found = list.find((a) => a.alert_id === alertId)
  if (!found) return { list: list.slice(), alert: null }
  const alert = { ...found, acknowledged: true }
  return { list: list.map((a) => (a === found ? alert : a)), alert }
}
