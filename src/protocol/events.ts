/**
 * Facts the hub emits after a durable change, shared by the WS feed, internal/admin
 * publishing, metrics and the reconciler. Past tense; emitted only after the write.
 */
import type { CalendarAffected } from './calendar.js'
import type { AffectedSession, Credit } from './affected.js'
import type { ClockStatus } from './clock.js'
import type { Alert, MachineConfirmation, MachineControl, MachineState, SessionRecord } from './messages.js'

export type CreditChange = 'accruing' | 'issued' | 'redeemed'

/**
 * `paid`: a payment was recorded (a hold became reserved/active, or a reservation was paid);
 * `expired`: a hold ran out unpaid; `released`: a reservation nobody checked in for (no-show);
 * `checked_in`: the golfer arrived (issue 12).
 */
export type SessionChange = 'created' | 'updated' | 'cancelled' | 'activated' | 'completed' | 'paid' | 'expired' | 'released' | 'checked_in'

export interface HubEvents extends Record<string, unknown> {
  'session.changed': { change: SessionChange; session: SessionRecord; previous?: SessionRecord }
  'machine.changed': { machine: MachineState }
  'alert.raised': { alert: Alert }
  'alert.cleared': { alert: Alert }
  'command.sent': { command: MachineControl; attempt: number }
  'command.confirmed': { command: MachineControl; confirmation: MachineConfirmation; latencyMs: number }
  'command.failed': { command: MachineControl; reason: string }
  'input.rejected': { topic: string; client: string; message: string }
  /** a session's bay stopped working (affected: true) or the flag was cleared (issue 11, protocol/affected.ts) */
  'session.affected': { affected: AffectedSession }
  /** a credit for lost minutes started accruing, was issued (final minutes) or redeemed (issue 11) */
  'credit.changed': { change: CreditChange; credit: Credit }
  /** the venue calendar was replaced (issue 14), durably; `affected`: booked sessions it now refuses (confirmed change) */
  'calendar.changed': { updated_by: string; affected: CalendarAffected[] }
  /** the hub's clock changed trust or source, or stepped (issue 15) */
  'clock.changed': { clock: ClockStatus; stepMs: number; reason: string }
}

export type HubEventName = keyof HubEvents
