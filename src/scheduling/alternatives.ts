/**
 * Where an affected session can go (issue 11): the nearest windows of as many adjacent bays in
 * the same row, for the same times, on bays that can dispense and are free. PURE. A running
 * session needs its new bays only from now on: what ran on them earlier does not block it.
 */
import type { Alternative } from '../protocol/affected.js'
import type { SessionRecord } from '../protocol/messages.js'
import { findConflict } from './rules.js'
import { problemAt, type BayHealthFn } from './sellable.js'

export interface AlternativesInput {
  session: SessionRecord
  nowS: number
  bufferS: number
  rows: readonly (readonly number[])[]
  sessionsOn: (bays: readonly number[]) => Iterable<SessionRecord>
  health: BayHealthFn
  limit: number
}

/** The interval a session needs on new bays: from now for a running one. */
export function neededFrom(session: SessionRecord, nowS: number): number {
  return Math.max(session.start_time, nowS)
}

export function findAlternatives(input: AlternativesInput): Alternative[] {
  const { session, nowS } = input
  const first = session.machine_id[0]!
  const row = input.rows.find((r) => r.includes(first))
  if (!row) return []
  const size = session.machine_id.length
  const here = row.indexOf(first)
  const from = neededFrom(session, nowS)
  const current = session.machine_id.join(',')
  const out: Alternative[] = []
  for (let i = 0; i + size <= row.length; i++) {
    const window = row.slice(i, i + size)
    if (window.join(',') === current) continue
    const candidate = { session_id: session.session_id, machine_id: window, start_time: from, end_time: session.end_time }
    const blocked = window.some(
      (bay) => problemAt(input.health(bay, nowS), from) !== undefined || findConflict(input.sessionsOn([bay]), candidate, input.bufferS) !== undefined,
    )
    if (!blocked) out.push({ machine_id: [...window], start_time: session.start_time, end_time: session.end_time, distance: Math.abs(i - here) })
  }
  // Nearest first; on a tie the lower bay (the staff's reading order).
  return out.sort((a, b) => a.distance - b.distance || a.machine_id[0]! - b.machine_id[0]!).slice(0, input.limit)
}
