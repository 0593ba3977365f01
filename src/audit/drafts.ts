/**
 * PURE: what the audit log records for a change. A session change keeps the fields a person
 * reads in its history (bays, times, status, owner, who booked it).
 */
import { actorLabel, type Actor } from '../protocol/actor.js'
import type { AuditDraft, AuditKind } from '../protocol/audit.js'
import type { SessionChange } from '../protocol/events.js'
import type { SessionRecord } from '../protocol/messages.js'
import { detailFields } from '../protocol/details.js'

export interface SessionChangeFact {
  change: SessionChange
  session: SessionRecord
  previous?: SessionRecord | undefined
  actor?: Actor | undefined
  reason?: string | undefined
}

/**
 * Customer details are personal data and the log is append-only for years: it keeps which
 * fields were set (`details: ['customer_name', 'phone']`), never their values.
 */
function sessionView(s: SessionRecord): Record<string, unknown> {
  const { machine_id, status, start_time, end_time, duration, origin_node } = s
  const details = detailFields(s.details)
  return {
    machine_id, status, start_time, end_time, duration, origin_node,
    ...(s.booked_by !== undefined && { booked_by: s.booked_by }),
    ...(details.length > 0 && { details }),
    // issue 12: the money side, so a payment's entry shows what was paid and what it was for
    ...(s.price !== undefined && { price: s.price }),
    ...(s.payments !== undefined && { paid: s.payments.filter((p) => p.kind === 'payment').reduce((sum, p) => sum + p.amount, 0) }),
    ...(s.payments !== undefined && s.payments.length > 0 && { payment: s.payments[s.payments.length - 1] }),
  }
}

const sameSlot = (a: SessionRecord, b: SessionRecord) =>
  a.start_time === b.start_time && a.end_time === b.end_time && a.status === b.status && a.machine_id.join(',') === b.machine_id.join(',')

function kindOf(fact: SessionChangeFact): AuditKind | undefined {
  const maintenance = fact.session.status === 'maintenance' || fact.previous?.status === 'maintenance'
  const prefix = maintenance ? 'maintenance' : 'session'
  switch (fact.change) {
    case 'created':
      return `${prefix}.created`
    case 'cancelled':
      return `${prefix}.cancelled`
    case 'updated': {
      const p = fact.previous
      if (p !== undefined && sameSlot(p, fact.session) && JSON.stringify(p.details ?? null) !== JSON.stringify(fact.session.details ?? null)) return 'session.details'
      if (maintenance) return 'maintenance.updated'
      const moved = p !== undefined && (p.start_time !== fact.session.start_time || p.machine_id.join(',') !== fact.session.machine_id.join(','))
      return moved ? 'session.moved' : 'session.updated'
    }
    case 'paid':
      return fact.session.payments?.at(-1)?.kind === 'refund_requested' ? 'payment.refund_requested' : 'payment.recorded'
    case 'expired':
      return 'session.expired'
    case 'released':
      return 'session.released'
    case 'checked_in':
      return 'session.checked_in'
    default:
      // activated / completed are the clock's doing, not a change anyone made
      return undefined
  }
}

export function sessionDraft(fact: SessionChangeFact, nowS: number): AuditDraft | undefined {
  const kind = kindOf(fact)
  if (!kind || !fact.actor) return undefined
  return {
    at: nowS,
    actor: actorLabel(fact.actor),
    kind,
    session_id: fact.session.session_id,
    machine_id: [...new Set([...(fact.previous?.machine_id ?? []), ...fact.session.machine_id])].sort((a, b) => a - b),
    before: fact.previous ? sessionView(fact.previous) : null,
    after: sessionView(fact.session),
    ...(fact.reason !== undefined && { reason: fact.reason }),
  }
}

/** An override as the log shows it: who holds the bay, in what state, until when. */
export interface HoldView {
  source: string
  node: string
  status: string
  scheduled_until: number | null
  session_id: number | null
}

const holdView = (h: HoldView | null): Record<string, unknown> | null =>
  h === null ? null : { source: h.source, node: h.node, status: h.status, scheduled_until: h.scheduled_until, session_id: h.session_id }

export interface OverrideFact {
  machineId: number
  actor: Actor
  /** the hold in the changed slot before and after (null: none) */
  before: HoldView | null
  after: HoldView | null
  reason?: string | undefined
}

/** A bay override set, changed or released (machines.override). */
export function overrideDraft(fact: OverrideFact, nowS: number): AuditDraft {
  const kind: AuditKind = fact.after === null ? 'machine.released' : fact.after.status === 'maintenance' ? 'machine.maintenance' : 'machine.override'
  return {
    at: nowS,
    actor: actorLabel(fact.actor),
    kind,
    machine_id: [fact.machineId],
    before: holdView(fact.before),
    after: holdView(fact.after),
    ...(fact.reason !== undefined && { reason: fact.reason }),
  }
}

/** An alert acknowledged by staff. */
export function acknowledgeDraft(alert: { alert_id: string; kind: string; machine_id: number; message: string }, actor: Actor, nowS: number, reason?: string): AuditDraft {
  const view = { kind: alert.kind, message: alert.message }
  return {
    at: nowS,
    actor: actorLabel(actor),
    kind: 'alert.acknowledged',
    machine_id: [alert.machine_id],
    target: `alert:${alert.alert_id}`,
    before: { ...view, acknowledged: false },
    after: { ...view, acknowledged: true },
    ...(reason !== undefined && { reason }),
  }
}

/** The hub's clock as an entry shows it: its time, the offset from the system clock, the source. */
interface ClockView {
  now: number
  offset_ms: number
  source: string
  trusted: boolean
}

const clockView = (c: ClockView): Record<string, unknown> => ({ now: c.now, offset_ms: c.offset_ms, source: c.source, trusted: c.trusted })

/** Staff confirmed the hub's time (issue 15): the time before and after the step. */
export function clockDraft(before: ClockView, after: ClockView, actor: Actor, reason?: string): AuditDraft {
  return { at: after.now, actor: actorLabel(actor), kind: 'clock.confirmed', before: clockView(before), after: clockView(after), ...(reason !== undefined && { reason }) }
}
