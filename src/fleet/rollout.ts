/**
 * The rollout plan (issue 16), PURE: given a rollout and what each bay is doing now, which bays
 * to start, which have timed out, and whether the failure rate pauses it. Only idle bays start
 * (a bay in a session or offline waits), at most `batch_size` update at once.
 */
import type { BayUpdate, Rollout } from '../protocol/fleet.js'

/** Why a bay can't start an update now (in a session, offline), or undefined when it can. */
export type BusyReason = string | undefined

export interface Plan {
  start: number[]
  wait: Array<{ machine_id: number; message: string }>
  timedOut: number[]
  /** set when the failure rate crossed the threshold */
  pause?: string
  completed: boolean
}

/** At least this many finished bays before the failure rate can pause a rollout. */
export const MIN_FINISHED_FOR_RATE = 3

const finished = (b: BayUpdate) => b.state === 'updated' || b.state === 'failed' || b.state === 'skipped'

export function failureRate(r: Rollout): { failed: number; finished: number } {
  const done = r.bays.filter((b) => b.state === 'updated' || b.state === 'failed')
  return { failed: done.filter((b) => b.state === 'failed').length, finished: done.length }
}

export function planRollout(r: Rollout, busy: (id: number) => BusyReason, nowS: number, timeoutS: number): Plan {
  const timedOut = r.bays.filter((b) => b.state === 'updating' && b.started_at !== null && nowS - b.started_at >= timeoutS).map((b) => b.machine_id)
  const plan: Plan = { start: [], wait: [], timedOut, completed: false }
  const { failed, finished: done } = failureRate(r)
  if (r.state === 'running' && done >= MIN_FINISHED_FOR_RATE && failed / done > r.max_failure_rate) {
    plan.pause = `failure rate ${failed}/${done} is over ${Math.round(r.max_failure_rate * 100)} %`
  }
  if (r.state === 'running' && !plan.pause) {
    let free = r.batch_size - r.bays.filter((b) => b.state === 'updating' && !timedOut.includes(b.machine_id)).length
    for (const b of r.bays) {
      if (b.state !== 'queued' && b.state !== 'waiting') continue
      const reason = busy(b.machine_id)
      if (reason !== undefined) {
        if (b.state !== 'waiting' || b.message !== reason) plan.wait.push({ machine_id: b.machine_id, message: reason })
        continue
      }
      if (free <= 0) continue
      plan.start.push(b.machine_id)
      free--
    }
  }
  plan.completed = r.bays.every((b) => finished(b) || timedOut.includes(b.machine_id))
  return plan
}
