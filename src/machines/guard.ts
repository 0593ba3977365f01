/**
 * Guarded overrides (issue 11): "Stop" or "Maintenance" on a bay with a running or upcoming
 * session takes balls from a paying golfer, so it needs an explicit `confirm: true` and a
 * reason; the refusal names the sessions so the page can show them in its second step. PURE.
 */
import { err, type Err } from '../lib/result.js'
import type { MachineOverride } from '../protocol/messages.js'
import type { BookingsOnFn, CommandRequester, MachinesErrorCode } from './types.js'

export function guardOverride(
  cmd: MachineOverride,
  by: CommandRequester,
  bookingsOn: BookingsOnFn | undefined,
  nowS: number,
  fmt: (epochS: number) => string,
): Err<MachinesErrorCode> | undefined {
  if (by.source !== 'admin' || cmd.release || cmd.status === 'active' || !bookingsOn) return undefined
  const hit = bookingsOn(cmd.machine_id, nowS, cmd.scheduled_until ?? null).filter((s) => s.status === 'reserved' || s.status === 'active')
  if (hit.length === 0) return undefined
  if (cmd.confirm === true && cmd.reason !== undefined && cmd.reason.trim() !== '') return undefined
  const what = cmd.status === 'idle' ? 'stop' : 'put in maintenance'
  const names = hit
    .map((s) => `session ${s.session_id} (${fmt(s.start_time).slice(0, 5)}-${fmt(s.end_time).slice(0, 5)}${s.start_time <= nowS ? ', running' : ''})`)
    .join(', ')
  const field = cmd.confirm === true ? 'reason' : 'confirm'
  return err('OVERRIDE_UNCONFIRMED', `${field}: bay ${cmd.machine_id} has ${names}; to ${what} it send confirm: true and a reason`, field)
}
