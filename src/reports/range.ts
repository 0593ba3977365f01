/**
 * The `from` / `to` dates of a report or export (issue 13): local dates in HUB_TIMEZONE, both
 * inclusive ("1 to 30 November"), checked here so every report refuses the same way, naming the
 * field. The span is bounded: a Pi answers a year's export in seconds, not a century's.
 */
import { err, ok, type Result } from '../lib/result.js'
import { dayBounds } from '../scheduling/index.js'
import { addDays, daysBetween, isCalendarDate } from './local-time.js'

/** Longest range one request may cover (a leap year), in days. */
export const MAX_RANGE_DAYS = 366
/** Without `from`: the 30 days ending with `to`. */
export const DEFAULT_RANGE_DAYS = 30

export interface DateRange {
  fromDate: string
  toDate: string
  /** epoch s: start of `fromDate` */
  from: number
  /** epoch s: end of `toDate` (exclusive) */
  to: number
  /** the dates, in order */
  dates: string[]
}

const MIN_YEAR = 2000
const MAX_YEAR = 2100

function checkDate(name: 'from' | 'to', value: string): Result<string, 'REPORT_INVALID'> {
  if (!isCalendarDate(value)) return err('REPORT_INVALID', `${name}: ${JSON.stringify(value.slice(0, 40))} is not a date (YYYY-MM-DD)`, name)
  const year = Number(value.slice(0, 4))
  if (year < MIN_YEAR || year > MAX_YEAR) return err('REPORT_INVALID', `${name}: must lie between ${MIN_YEAR} and ${MAX_YEAR}`, name)
  return ok(value)
}

export function parseDateRange(
  query: { from?: string | undefined; to?: string | undefined },
  { today, timeZone, maxDays = MAX_RANGE_DAYS }: { today: string; timeZone: string; maxDays?: number },
): Result<DateRange, 'REPORT_INVALID'> {
  const to = checkDate('to', query.to ?? (query.from !== undefined && isCalendarDate(query.from) && query.from > today ? query.from : today))
  if (!to.ok) return to
  const from = checkDate('from', query.from ?? addDays(to.value, -(DEFAULT_RANGE_DAYS - 1)))
  if (!from.ok) return from
  const span = daysBetween(from.value, to.value) + 1
  if (span < 1) return err('REPORT_INVALID', `to: ${to.value} is before from (${from.value})`, 'to')
  if (span > maxDays) return err('REPORT_INVALID', `to: the range covers ${span} days; at most ${maxDays} per request (split it)`, 'to')
  const dates: string[] = []
  for (let d = from.value; d <= to.value; d = addDays(d, 1)) dates.push(d)
  return ok({ fromDate: from.value, toDate: to.value, from: dayBounds(timeZone, from.value).from, to: dayBounds(timeZone, to.value).to, dates })
}
