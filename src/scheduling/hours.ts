/**
 * Opening hours of HUB_OPENING_HOURS alone ('HH:MM-HH:MM' every day in HUB_TIMEZONE). PURE.
 * Since issue 14 the hours are part of the venue calendar (calendar.ts: per weekday, special
 * days); the setting is the fresh install's calendar. These helpers ask that one rule module
 * for a calendar made of the setting only, so there is no second copy of the rule.
 */
import { compileCalendar, defaultCalendar, type CompiledCalendar } from './calendar.js'

const compiled = new Map<string, CompiledCalendar>()

/** The fresh-install calendar of a setting (kept per zone and setting; a handful at most). */
export function settingCalendar(timeZone: string, openingHours: string | null): CompiledCalendar {
  const key = `${timeZone}|${openingHours ?? ''}`
  let c = compiled.get(key)
  if (!c) {
    if (compiled.size > 16) compiled.clear()
    c = compileCalendar(defaultCalendar(openingHours), timeZone)
    compiled.set(key, c)
  }
  return c
}

/** Why [start, end) is not inside opening hours, naming the field; undefined when it is (or hours are unset). */
export function outsideHours(timeZone: string, openingHours: string | null, startS: number, endS: number): { field: string; message: string } | undefined {
  return settingCalendar(timeZone, openingHours).outsideHours(startS, endS)
}

/** Closing time after `nowS` when the range is open then; null when hours are unset or the range has closed. */
export function closingAfter(timeZone: string, openingHours: string | null, nowS: number): number | null {
  return settingCalendar(timeZone, openingHours).closingAfter(nowS)
}
