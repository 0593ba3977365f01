/**
 * Opening hours (HUB_OPENING_HOURS, 'HH:MM-HH:MM' every day in HUB_TIMEZONE). PURE.
 * The grid draws them, and kiosk/reservation bookings and availability must lie inside one
 * day's window: a session may not start before opening nor run past closing (issue 11).
 */
import { clockAt, dateAt, instantOf } from './tz.js'

export interface OpenWindow {
  open: number
  close: number
}

/** The window of a local date ('YYYY-MM-DD'), as instants (DST-correct). */
export function windowOfDate(timeZone: string, openingHours: string, date: string): OpenWindow {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const [open, close] = openingHours.split('-').map((hm) => hm.split(':').map(Number)) as [[number, number], [number, number]]
  return {
    open: instantOf(timeZone, { year: y, month: m, day: d, hour: open[0], minute: open[1] }),
    close: instantOf(timeZone, { year: y, month: m, day: d, hour: close[0], minute: close[1] }),
  }
}

/** The window of the local day an instant falls on. */
export function windowAt(timeZone: string, openingHours: string, epochS: number): OpenWindow {
  return windowOfDate(timeZone, openingHours, dateAt(timeZone, epochS))
}

/** Why [start, end) is not inside opening hours, naming the field; undefined when it is (or hours are unset). */
export function outsideHours(timeZone: string, openingHours: string | null, startS: number, endS: number): { field: string; message: string } | undefined {
  if (!openingHours) return undefined
  const w = windowAt(timeZone, openingHours, startS)
  if (startS < w.open || startS >= w.close) {
    return { field: 'start_time', message: `start_time: ${clockAt(timeZone, startS)} is outside opening hours ${openingHours}` }
  }
  if (endS > w.close) {
    return {
      field: 'duration',
      message: `duration: the session would run past closing time ${clockAt(timeZone, w.close)} (it would end ${clockAt(timeZone, endS)})`,
    }
  }
  return undefined
}

/** Closing time of today's window when `nowS` is before it; null when hours are unset or the range has closed. */
export function closingAfter(timeZone: string, openingHours: string | null, nowS: number): number | null {
  if (!openingHours) return null
  const w = windowAt(timeZone, openingHours, nowS)
  return nowS < w.close ? w.close : null
}
