/**
 * PURE: which sessions a bay problem hits and which of them lose minutes now (issue 11).
 * A session is affected when one of its bays has a problem that does not end before the
 * session needs the bay (from now on for a running one). It loses minutes while it runs and a
 * bay cannot dispense: maintenance, error, offline past the grace, an admin stop — not an admin
 * manual start (the bay dispenses then).
 */
import type { AffectedBay } from '../protocol/affected.js'
import type { BayProblem, SessionRecord } from '../protocol/messages.js'

export interface BayIssue {
  problem: BayProblem
  /** the words for it ("bay 4 is offline since 10:41") */
  message: string
  /** the bay dispenses anyway (an admin started it by hand) */
  dispensing: boolean
}

export interface ManualFlag {
  reason: string
  message: string
}

export interface Detected {
  session: SessionRecord
  bays: AffectedBay[]
  running: boolean
}

export interface Lost {
  session_id: number
  machine_id: number
  reason: string
}

/** The word a credit and an affected bay carry: `stopped` for an admin stop, else the problem's reason. */
export function reasonOf(issue: BayIssue): string {
  return issue.problem.reason === 'held' && !issue.dispensing ? 'stopped' : issue.problem.reason
}

export function isOpen(s: SessionRecord, nowS: number): boolean {
  return (s.status === 'reserved' || s.status === 'active') && s.end_time > nowS
}

export function isRunning(s: SessionRecord, nowS: number): boolean {
  return isOpen(s, nowS) && (s.status === 'active' || s.start_time <= nowS)
}

/** Sessions hit by bay issues or flagged by another module, and the (session, bay) pairs losing time now. */
export function detect(
  sessions: Iterable<SessionRecord>,
  issues: ReadonlyMap<number, BayIssue>,
  manual: ReadonlyMap<number, ManualFlag>,
  nowS: number,
): { affected: Map<number, Detected>; lost: Lost[] } {
  const affected = new Map<number, Detected>()
  const lost: Lost[] = []
  for (const s of sessions) {
    if (!isOpen(s, nowS)) continue
    const running = isRunning(s, nowS)
    const from = Math.max(s.start_time, nowS)
    const bays: AffectedBay[] = []
    for (const bay of s.machine_id) {
      const issue = issues.get(bay)
      if (!issue || (issue.problem.until !== null && issue.problem.until <= from)) continue
      const reason = reasonOf(issue)
      bays.push({ machine_id: bay, reason, message: issue.message })
      if (running && !issue.dispensing) lost.push({ session_id: s.session_id, machine_id: bay, reason })
    }
    const flag = manual.get(s.session_id)
    if (flag) for (const bay of s.machine_id) if (!bays.some((b) => b.machine_id === bay)) bays.push({ machine_id: bay, reason: flag.reason, message: flag.message })
    if (bays.length > 0) affected.set(s.session_id, { session: s, bays: bays.sort((a, b) => a.machine_id - b.machine_id), running })
  }
  return { affected, lost }
}
