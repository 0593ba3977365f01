/**
 * PURE credit arithmetic (issue 11): lost seconds of an accruing credit at a time, whole minutes
 * owed (rounded up: a golfer who lost 61 s is owed 2 minutes), and the redeem rule.
 */
import { err, ok, type Result } from '../lib/result.js'
import type { Credit } from '../protocol/affected.js'

export type CreditErrorCode =
  | 'CREDIT_NOT_FOUND' // no credit with that id or code
  | 'CREDIT_REDEEMED' // redeemed already; message names when and by whom
  | 'CREDIT_ACCRUING' // its session still loses minutes: the amount is not final yet
  | 'CREDIT_INVALID' // neither an id nor a code given; field named

/** The credit as seen at `nowS`: an accruing one counts up to now. */
export function creditAt(c: Credit, nowS: number): Credit {
  if (!c.accruing) return c
  const lost = Math.max(0, Math.floor(nowS - c.from))
  return { ...c, lost_seconds: lost, minutes: Math.ceil(lost / 60) }
}

/** Stops accruing at `atS` and issues the credit; undefined when nothing was lost (under a second). */
export function issue(c: Credit, atS: number): Credit | undefined {
  const to = Math.max(c.from, atS)
  const lost = Math.floor(to - c.from)
  if (lost < 1) return undefined
  return { ...c, to, lost_seconds: lost, minutes: Math.ceil(lost / 60), accruing: false, issued_at: atS }
}

export function redeem(c: Credit, by: string, forSession: number | null, atS: number, fmt: (s: number) => string): Result<Credit, CreditErrorCode> {
  if (c.redeemed) return err('CREDIT_REDEEMED', `credit ${c.credit_id} was redeemed at ${fmt(c.redeemed_at ?? atS)} by ${c.redeemed_by ?? 'someone'}`)
  if (c.accruing) {
    return err('CREDIT_ACCRUING', `credit ${c.credit_id} is still accruing: session ${c.session_id} cannot dispense on bay ${c.machine_id} yet; redeem it once it is issued`)
  }
  return ok({ ...c, redeemed: true, redeemed_at: atS, redeemed_by: by, redeemed_for: forSession })
}
