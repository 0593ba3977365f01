/**
 * The rate table (issue 12). PURE: checking a table and quoting a booking, time in HUB_TIMEZONE.
 * A rate is per bay and hour, charged per slot of the grid (5 minutes = 1/12 of the hourly rate),
 * so a booking's price is the sum over its slots and bays, rounded once (half up) at the end.
 * A bay's class (covered, heated, tracking ...) picks the bands of that class; a band without a
 * class prices every bay whose class has no band at that time.
 */
import { err, ok, type Result } from '../lib/result.js'
import type { Money, PriceBand, PriceTable, Weekday } from '../protocol/payments.js'
import { Weekdays } from '../protocol/payments.js'
import { wallTimeAt } from '../scheduling/tz.js'

export type PriceErrorCode = 'PRICES_INVALID'

export interface PriceRules {
  timeZone: string
  slotMinutes: number
  /** HUB_OPENING_HOURS `HH:MM-HH:MM`, null = whole day: every bookable minute must have a price */
  openingHours: string | null
  /** bays the hub serves */
  machineIds: readonly number[]
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/** A table that prices every bookable slot of every bay exactly once, or why not (naming the field). */
export function checkPriceTable(table: PriceTable, rules: PriceRules): Result<PriceTable, PriceErrorCode> {
  const known = new Set(rules.machineIds)
  for (const [bay] of Object.entries(table.bay_classes ?? {})) {
    if (!known.has(Number(bay))) return err('PRICES_INVALID', `bay_classes.${bay}: bay ${bay} is not served by this hub`, 'bay_classes')
  }
  for (const [i, band] of table.bands.entries()) {
    const from = minutesOf(band.from)
    const to = minutesOf(band.to)
    if (to <= from) return err('PRICES_INVALID', `bands[${i}].to: ${band.to} is not after from ${band.from}`, `bands[${i}].to`)
    if (from % rules.slotMinutes !== 0 || to % rules.slotMinutes !== 0) {
      return err('PRICES_INVALID', `bands[${i}]: ${band.from}-${band.to} does not fall on the ${rules.slotMinutes}-minute grid`, `bands[${i}]`)
    }
  }
  // No two bands of one class may price the same minute: which one would count?
  for (const [i, a] of table.bands.entries()) {
    for (let j = i + 1; j < table.bands.length; j++) {
      const b = table.bands[j]!
      if ((a.class ?? null) !== (b.class ?? null) || !a.days.some((d) => b.days.includes(d))) continue
      if (minutesOf(a.from) < minutesOf(b.to) && minutesOf(b.from) < minutesOf(a.to)) {
        return err('PRICES_INVALID', `bands[${j}]: overlaps bands[${i}] (${a.from}-${a.to}${a.class ? `, class ${a.class}` : ''})`, `bands[${j}]`)
      }
    }
  }
  // Every bookable slot of every bay class in use has a price.
  const [open, close] = rules.openingHours ? rules.openingHours.split('-').map(minutesOf) as [number, number] : [0, 24 * 60]
  const classes = new Set<string | null>(rules.machineIds.map((id) => classOf(table, id)))
  for (const day of Weekdays) {
    for (const cls of classes) {
      for (let m = open; m < (close > open ? close : 24 * 60); m += rules.slotMinutes) {
        if (!bandAt(table.bands, day, m, cls)) {
          const hh = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
          const who = cls === null ? 'bays without a class' : `bays of class ${cls}`
          return err('PRICES_INVALID', `bands: ${day} ${hh} has no price for ${who}; every bookable hour needs one`, 'bands')
        }
      }
    }
  }
  return ok(table)
}

function classOf(table: Pick<PriceTable, 'bay_classes'>, bay: number): string | null {
  const classes = table.bay_classes ?? {}
  const key = String(bay)
  return Object.hasOwn(classes, key) ? classes[key]! : null
}

/** The band pricing minute `m` of a weekday for a bay class: its own class first, then a classless band. */
function bandAt(bands: readonly PriceBand[], day: Weekday, m: number, cls: string | null): PriceBand | undefined {
  const fits = (b: PriceBand) => b.days.includes(day) && minutesOf(b.from) <= m && m < minutesOf(b.to)
  return (cls !== null ? bands.find((b) => b.class === cls && fits(b)) : undefined) ?? bands.find((b) => b.class === undefined && fits(b))
}

/** What `bays` cost for [start, end): the sum of each slot's rate, rounded half up once. */
export function quote(table: PriceTable, booking: { machine_id: readonly number[]; start_time: number; end_time: number }, rules: Pick<PriceRules, 'timeZone' | 'slotMinutes'>): Money {
  const slotS = rules.slotMinutes * 60
  let total = 0
  for (let t = booking.start_time; t < booking.end_time; t += slotS) {
    const w = wallTimeAt(rules.timeZone, t)
    const day = Weekdays[(new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay() + 6) % 7]!
    const m = w.hour * 60 + w.minute
    // A slot cut short (a start between grid lines, or an end) pays its share.
    const share = Math.min(slotS, booking.end_time - t) / 3600
    for (const bay of booking.machine_id) total += (bandAt(table.bands, day, m, classOf(table, bay))?.per_hour ?? 0) * share
  }
  return { amount: Math.round(total + 1e-9), currency: table.currency }
}
