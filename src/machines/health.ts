/**
 * PURE: can a bay dispense, so may it be sold (issue 11, DESIGN §9 "Sellable")? Not while an
 * admin override holds it (maintenance, stop or a manual start), while it is in error, while it
 * reports maintenance by itself, or once it has been offline longer than the grace
 * (HUB_OFFLINE_GRACE_SECONDS: a dispenser that reconnects within it stays sellable).
 */
import type { BayProblem } from '../protocol/messages.js'
import { isLive, type HeldCommand } from './desired.js'
import type { MachineRecord } from './record.js'

export interface HealthInput {
  record: MachineRecord
  online: boolean
  /** when it went offline (or the hub started without it), epoch s; null when online */
  offlineSince: number | null
  /** the schedule itself wants maintenance now (a block): the machine reporting it is expected */
  scheduledMaintenance: boolean
  graceS: number
  nowS: number
}

const STATUS_WORD: Record<HeldCommand['status'], string> = { idle: 'stopped', active: 'started by hand', maintenance: 'maintenance' }

export function bayProblem(input: HealthInput): BayProblem | undefined {
  const { record: r, nowS } = input
  if (isLive(r.admin, nowS)) {
    const holder = `an admin override (${r.admin.node})`
    if (r.admin.status === 'maintenance') return { reason: 'maintenance', until: r.admin.scheduled_until, holder }
    return { reason: 'held', until: r.admin.scheduled_until, holder: `an admin override (${STATUS_WORD[r.admin.status]} by ${r.admin.node})` }
  }
  if (!input.online) {
    const since = input.offlineSince ?? nowS
    if (nowS - since < input.graceS) return undefined
    return { reason: 'offline', until: null, since, ...(r.offline_reason !== null && { detail: r.offline_reason }) }
  }
  if (r.error !== null || r.reported_status === 'error') return { reason: 'error', until: null, ...(r.error !== null && { detail: r.error }) }
  if (r.reported_status === 'maintenance' && !input.scheduledMaintenance) {
    return { reason: 'maintenance', until: null, holder: 'the dispenser itself' }
  }
  return undefined
}
