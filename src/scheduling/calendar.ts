/**
 * The venue calendar as rules (issue 14). PURE: opening hours per weekday, special days and
 * weekly bay windows, evaluated in HUB_TIMEZONE wall time. Every door asks this one module
 * (through sellable.ts, hours.ts, availability.ts and grid.ts): bookings, kiosk options, the
 * schedule grid and payments (`isFreeAt`).
 *
 * The rule (README "Calendar"):
 * - A local date's hours are its special day's if it has one, else its weekday's. A booking
 *   must lie inside one stretch of open time; days that close at 24:00 and open at 00:00 join
 *   into one stretch (so an always-open venue takes bookings across midnight).
 * - A window applies on its weekdays (the day its band starts; a band whose `to` is at or
 *   before `from` runs into the next day), between `starts` and `ends` when given. Windows
 *   apply on special days too: a special day changes only the hours.
 * - Where windows overlap on a bay, the most restrictive wins: closed > walk_in_only >
 *   bookable > free. Outside every window a bay is bookable (and charged).
 * - closed: nobody books (an admin may `force`); walk_in_only: kiosk and staff, reservations
 *   refused; bookable: everyone; free: everyone, no payment, but only where nothing stricter
 *   overlaps it.
 */
import { err, ok, type Err, type Result } from '../lib/result.js'
import { Weekdays, type BayWindow, type BookingChannel, type Calendar, type DayHours, type SpecialDay, type Weekday, type WindowKind } from '../protocol/calendar.js'
import { clockAt, dateAt, instantOf, startOfDay } from './tz.js'

/** Lower is stricter. */
export const RESTRICTION: Record<WindowKind, number> = { closed: 0, walk_in_only: 1, bookable: 2, free: 3 }

/** The calendar of a fresh install: HUB_OPENING_HOURS every day (unset: open all day), no special days, no windows. */
export function defaultCalendar(openingHours: string | null): Calendar {
  const h = openingHours ?? '00:00-24:00'
  return { hours: { mon: h, tue: h, wed: h, thu: h, fri: h, sat: h, sun: h }, special_days: [], windows: [] }
}

// ------------------------------------------------------------------ dates

const MINUTES = (hm: string) => {
  const [h, m] = hm.split(':').map(Number) as [number, number]
  return h * 60 + m
}

function ymd(date: string): [number, number, number] {
  return date.split('-').map(Number) as [number, number, number]
}

/** Whether 'YYYY-MM-DD' names a real date. */
export function isRealDate(date: string): boolean {
  const [y, m, d] = ymd(date)
  const t = new Date(Date.UTC(y, m - 1, d))
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d
}

export function addDays(date: string, n: number): string {
  const [y, m, d] = ymd(date)
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10)
}

export function weekdayOf(date: string): Weekday {
  const [y, m, d] = ymd(date)
  return Weekdays[(new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7]!
}

const DAY_LABEL: Record<Weekday, string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' }

/** The instant of `HH:MM` (or `24:00`) on a local date. */
function instantAt(timeZone: string, date: string, hm: string): number {
  if (hm === '24:00') return startOfDay(timeZone, addDays(date, 1))
  const [year, month, day] = ymd(date)
  const [hour, minute] = hm.split(':').map(Number) as [number, number]
  return instantOf(timeZone, { year, month, day, hour, minute })
}

// ------------------------------------------------------------------ bays

/** Parsed `1-40` / `1,2,5-9` as [lo, hi] pairs, never expanded (a hostile `1-999999999` costs nothing). */
export type BayRanges = ReadonlyArray<readonly [number, number]>

export const MAX_BAY_PARTS = 50

export function parseBays(text: string): Result<BayRanges> {
  const parts = text.split(',')
  if (parts.length > MAX_BAY_PARTS) return err('CALENDAR_INVALID', `at most ${MAX_BAY_PARTS} ranges`)
  const out: Array<[number, number]> = []
  for (const raw of parts) {
    const m = /^\s*(\d{1,4})\s*(?:-\s*(\d{1,4})\s*)?$/.exec(raw)
    if (!m) return err('CALENDAR_INVALID', `"${raw.trim()}" is not a bay or a range like 1-40`)
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (lo < 1 || hi < lo) return err('CALENDAR_INVALID', `"${raw.trim()}" must be low to high, from 1`)
    out.push([lo, hi])
  }
  return ok(out)
}

export function inRanges(ranges: BayRanges, bay: number): boolean {
  for (const [lo, hi] of ranges) if (bay >= lo && bay <= hi) return true
  return false
}

// ------------------------------------------------------------------ validation

/**
 * What the schema cannot say: hours open before they close, real and distinct special dates,
 * bays that exist, a window that is not empty, a date range low to high. The field is named
 * like the schema's errors (`windows[3].bays`); nothing is changed on a refusal.
 */
export function checkCalendar(cal: Calendar, known: ReadonlySet<number>): Err<'CALENDAR_INVALID'> | undefined {
  const bad = (field: string, message: string) => err('CALENDAR_INVALID' as const, `${field}: ${message}`, field)
  const hoursProblem = (h: DayHours) => {
    if (h === 'closed') return undefined
    const [open, close] = h.split('-') as [string, string]
    return MINUTES(open) < MINUTES(close) ? undefined : `"${h}" must open before it closes (close may be 24:00)`
  }
  for (const day of Weekdays) {
    const p = hoursProblem(cal.hours[day])
    if (p) return bad(`hours.${day}`, p)
  }
  const dates = new Set<string>()
  for (const [i, s] of cal.special_days.entries()) {
    if (!isRealDate(s.date)) return bad(`special_days[${i}].date`, `${s.date} is not a date`)
    if (dates.has(s.date)) return bad(`special_days[${i}].date`, `${s.date} appears twice`)
    dates.add(s.date)
    const p = hoursProblem(s.hours)
    if (p) return bad(`special_days[${i}].hours`, p)
  }
  for (const [i, w] of cal.windows.entries()) {
    const ranges = parseBays(w.bays)
    if (!ranges.ok) return bad(`windows[${i}].bays`, ranges.message)
    for (const [lo, hi] of ranges.value) {
      // Checked against the configured bays without expanding the range.
      for (const end of [lo, hi]) if (!known.has(end)) return bad(`windows[${i}].bays`, `bay ${end} is not a bay of this venue`)
    }
    if (w.from === w.to) return bad(`windows[${i}].to`, `the band ${w.from}-${w.to} is empty (use 00:00-24:00 for a whole day)`)
    for (const f of ['starts', 'ends'] as const) {
      const d = w[f]
      if (d !== undefined && !isRealDate(d)) return bad(`windows[${i}].${f}`, `${d} is not a date`)
    }
    if (w.starts !== undefined && w.ends !== undefined && w.ends < w.starts) return bad(`windows[${i}].ends`, `${w.ends} is before starts ${w.starts}`)
  }
  return undefined
}

// ------------------------------------------------------------------ compiled

/** One window on one date, as instants. */
export interface Occurrence {
  /** index in `calendar.windows` */
  index: number
  window: BayWindow
  bays: BayRanges
  /** the local date the band starts */
  date: string
  from: number
  to: number
}

export interface DayPlan {
  date: string
  weekday: Weekday
  hours: DayHours
  special: SpecialDay | undefined
  /** [from, to) open, or null when closed all day */
  open: { from: number; to: number } | null
  /** windows whose band starts on this date */
  occurrences: Occurrence[]
}

export type CalendarCode = 'SESSION_OUTSIDE_HOURS' | 'BAY_CLOSED' | 'WALK_IN_ONLY'

/** The state a bay's window gives a span: the most restrictive window over it, if any. */
export interface WindowState {
  kind: WindowKind
  occurrence: Occurrence
  /** "closed for mowing" etc., for the grid and refusals */
  reason: string
}

export interface RefusalOptions {
  /** check the opening hours too (default true) */
  hours?: boolean
  /** `occurrencesOver(start, end)` when the caller has it already (availability asks per bay) */
  occurrences?: readonly Occurrence[]
}

export interface CompiledCalendar {
  readonly calendar: Calendar
  readonly timeZone: string
  day(date: string): DayPlan
  /** Why [start, end) is not inside one stretch of open time, naming the field; undefined when it is. */
  outsideHours(startS: number, endS: number): { field: string; message: string } | undefined
  /** Windows overlapping [start, end) (on any bay). */
  occurrencesOver(startS: number, endS: number): Occurrence[]
  /** The most restrictive window over [start, end) on a bay, from `occurrences` (default: computed). */
  stateOf(bay: number, startS: number, endS: number, occurrences?: readonly Occurrence[]): WindowState | undefined
  /** Why a booking by `channel` may not use these bays then (hours, closed or walk-in windows); undefined when it may. */
  refusal(bays: readonly number[], startS: number, endS: number, channel: BookingChannel, options?: RefusalOptions): Err<CalendarCode> | undefined
  /** True when every bay is in a `free` window for all of [start, end) and nothing stricter overlaps (payments skip the hold). */
  isFreeAt(bays: readonly number[], startS: number, endS: number): boolean
  /** Closing time of the open stretch `nowS` is in; null when closed now (or open without end within a week). */
  closingAfter(nowS: number): number | null
  /** [from, to) of the grid rows of a date: its open hours, or (closed all day) its weekday's hours or the whole day. */
  gridSpan(date: string): { from: number; to: number; closed: string | null }
}

function bandOf(timeZone: string, date: string, hours: DayHours): { from: number; to: number } | null {
  if (hours === 'closed') return null
  const [open, close] = hours.split('-') as [string, string]
  return { from: instantAt(timeZone, date, open), to: instantAt(timeZone, date, close) }
}

export function describeWindow(w: BayWindow, index: number): string {
  const dates = w.starts || w.ends ? `, ${w.starts ?? '…'} to ${w.ends ?? '…'}` : ''
  return `calendar window ${index + 1}: bays ${w.bays}, ${w.days.join(',')} ${w.from}-${w.to}${dates}`
}

function describeOccurrence(o: Occurrence, timeZone: string): string {
  return `${DAY_LABEL[weekdayOf(o.date)]} ${o.date} ${clockAt(timeZone, o.from)}-${o.window.to === '24:00' ? '24:00' : clockAt(timeZone, o.to)}`
}

const KIND_TEXT: Record<WindowKind, string> = { closed: 'closed', walk_in_only: 'walk-in only', bookable: 'bookable', free: 'free' }

/** Most dates whose plans are kept (the availability search and the grid reuse them). */
const MAX_PLANS = 800
/** Longest span a rule looks at (sessions are at most 7 days, DESIGN schema). */
const MAX_SPAN_DAYS = 9

export function compileCalendar(calendar: Calendar, timeZone: string): CompiledCalendar {
  const specials = new Map(calendar.special_days.map((s) => [s.date, s]))
  const windows = calendar.windows.map((window, index) => {
    const bays = parseBays(window.bays)
    return { window, index, bays: bays.ok ? bays.value : [] }
  })
  const plans = new Map<string, DayPlan>()
  /** the joined open stretch holding each date's band (stretchAt), kept like the plans */
  const stretches = new Map<string, { from: number; to: number }>()

  const day = (date: string): DayPlan => {
    const cached = plans.get(date)
    if (cached) return cached
    const weekday = weekdayOf(date)
    const special = specials.get(date)
    const hours = special?.hours ?? calendar.hours[weekday]
    const occurrences: Occurrence[] = []
    for (const { window, index, bays } of windows) {
      if (!window.days.includes(weekday)) continue
      if ((window.starts !== undefined && date < window.starts) || (window.ends !== undefined && date > window.ends)) continue
      const from = instantAt(timeZone, date, window.from)
      // A band ending at or before its start runs past midnight into the next day.
      const crosses = window.to !== '24:00' && MINUTES(window.to) <= MINUTES(window.from)
      const to = instantAt(timeZone, crosses ? addDays(date, 1) : date, window.to)
      if (to > from) occurrences.push({ index, window, bays, date, from, to })
    }
    const plan: DayPlan = { date, weekday, hours, special, open: bandOf(timeZone, date, hours), occurrences }
    if (plans.size >= MAX_PLANS) plans.clear()
    plans.set(date, plan)
    return plan
  }

  /** Dates whose plans can touch [start, end): the day before (bands across midnight) to the end's day. */
  const datesOver = (startS: number, endS: number): string[] => {
    const first = addDays(dateAt(timeZone, startS), -1)
    const last = dateAt(timeZone, Math.max(startS, endS))
    const out: string[] = []
    for (let d = first, n = 0; d <= last && n <= MAX_SPAN_DAYS; d = addDays(d, 1), n++) out.push(d)
    return out
  }

  /** The stretch of open time containing `t` (touching days joined), or undefined when closed at t. */
  const stretchAt = (t: number): { from: number; to: number } | undefined => {
    const home = dateAt(timeZone, t)
    let plan = day(home)
    let band = plan.open && t >= plan.open.from && t < plan.open.to ? plan.open : undefined
    if (!band) {
      // A band of the day before can reach past midnight only when it closes at 24:00 (handled by joining).
      return undefined
    }
    // One open band per date, so the joined stretch is the date's: every booking asks it (issue 17).
    const known = stretches.get(home)
    if (known) return known
    let { from, to } = band
    // Join following days that open exactly when this one closes (24:00 then 00:00).
    for (let d = home, n = 0; n < MAX_SPAN_DAYS; n++) {
      d = addDays(d, 1)
      plan = day(d)
      if (!plan.open || plan.open.from !== to) break
      to = plan.open.to
    }
    for (let d = home, n = 0; n < MAX_SPAN_DAYS; n++) {
      d = addDays(d, -1)
      plan = day(d)
      if (!plan.open || plan.open.to !== from) break
      from = plan.open.from
    }
    if (stretches.size >= MAX_PLANS) stretches.clear()
    const stretch = { from, to }
    stretches.set(home, stretch)
    return stretch
  }

  const hoursText = (plan: DayPlan) => (plan.special ? `${plan.hours} on ${plan.date} (${plan.special.reason})` : plan.hours)

  const outsideHours = (startS: number, endS: number) => {
    const stretch = stretchAt(startS)
    if (!stretch) {
      const plan = day(dateAt(timeZone, startS))
      if (plan.open === null) {
        const why = plan.special ? `on ${DAY_LABEL[plan.weekday]} ${plan.date} (${plan.special.reason})` : `on ${DAY_LABEL[plan.weekday]}days`
        return { field: 'start_time', message: `start_time: the range is closed ${why}` }
      }
      return { field: 'start_time', message: `start_time: ${clockAt(timeZone, startS)} is outside opening hours ${hoursText(plan)}` }
    }
    if (endS > stretch.to) {
      return {
        field: 'duration',
        message: `duration: the session would run past closing time ${clockAt(timeZone, stretch.to)} (it would end ${clockAt(timeZone, endS)})`,
      }
    }
    return undefined
  }

  const occurrencesOver = (startS: number, endS: number): Occurrence[] => {
    if (windows.length === 0) return []
    const out: Occurrence[] = []
    for (const d of datesOver(startS, endS)) for (const o of day(d).occurrences) if (o.from < endS && o.to > startS) out.push(o)
    return out
  }

  const stateOf = (bay: number, startS: number, endS: number, occurrences?: readonly Occurrence[]): WindowState | undefined => {
    let best: Occurrence | undefined
    for (const o of occurrences ?? occurrencesOver(startS, endS)) {
      if (o.from >= endS || o.to <= startS || !inRanges(o.bays, bay)) continue
      if (!best || RESTRICTION[o.window.kind] < RESTRICTION[best.window.kind] || (o.window.kind === best.window.kind && o.from < best.from)) best = o
    }
    if (!best) return undefined
    return { kind: best.window.kind, occurrence: best, reason: `${KIND_TEXT[best.window.kind]}: ${best.window.reason}` }
  }

  const refusal = (bays: readonly number[], startS: number, endS: number, channel: BookingChannel, options: RefusalOptions = {}): Err<CalendarCode> | undefined => {
    if (options.hours !== false) {
      const hours = outsideHours(startS, endS)
      if (hours) return err('SESSION_OUTSIDE_HOURS', hours.message, hours.field)
    }
    const occurrences = options.occurrences ?? occurrencesOver(startS, endS)
    if (occurrences.length === 0) return undefined
    let worst: { bay: number; state: WindowState } | undefined
    for (const bay of bays) {
      const state = stateOf(bay, startS, endS, occurrences)
      if (state && (!worst || RESTRICTION[state.kind] < RESTRICTION[worst.state.kind])) worst = { bay, state }
    }
    if (!worst) return undefined
    const { bay, state } = worst
    const o = state.occurrence
    const where = `${describeOccurrence(o, timeZone)} (${describeWindow(o.window, o.index)})`
    if (state.kind === 'closed') {
      return err('BAY_CLOSED', `start_time: bay ${bay} is closed for ${o.window.reason} ${where}`, 'start_time')
    }
    if (state.kind === 'walk_in_only' && channel === 'reservation') {
      return err('WALK_IN_ONLY', `start_time: bay ${bay} is walk-in only (${o.window.reason}) ${where}: book at the kiosk or the desk`, 'start_time')
    }
    return undefined
  }

  const isFreeAt = (bays: readonly number[], startS: number, endS: number): boolean => {
    if (endS <= startS) return false
    const occurrences = occurrencesOver(startS, endS)
    for (const bay of bays) {
      const mine = occurrences.filter((o) => inRanges(o.bays, bay))
      if (mine.some((o) => o.window.kind !== 'free')) return false
      // The free windows must cover the whole span, without a gap.
      let covered = startS
      for (const o of mine.sort((a, b) => a.from - b.from)) {
        if (o.from > covered) return false
        covered = Math.max(covered, o.to)
        if (covered >= endS) break
      }
      if (covered < endS) return false
    }
    return bays.length > 0
  }

  const closingAfter = (nowS: number): number | null => {
    const stretch = stretchAt(nowS)
    if (!stretch) return null
    // Open without an end in sight (always open): no closing time to cap at.
    return stretch.to - nowS >= (MAX_SPAN_DAYS - 1) * 86_400 ? null : stretch.to
  }

  const gridSpan = (date: string) => {
    const plan = day(date)
    if (plan.open) return { ...plan.open, closed: null }
    const regular = plan.special ? bandOf(timeZone, date, calendar.hours[plan.weekday]) : null
    const span = regular ?? { from: startOfDay(timeZone, date), to: startOfDay(timeZone, addDays(date, 1)) }
    const closed = plan.special ? `closed: ${plan.special.reason}` : `closed on ${DAY_LABEL[plan.weekday]}days`
    return { ...span, closed }
  }

  return { calendar, timeZone, day, outsideHours, occurrencesOver, stateOf, refusal, isFreeAt, closingAfter, gridSpan }
}
