/**
 * Wall-clock time in an IANA zone (HUB_TIMEZONE, DESIGN §3). PURE.
 * The grid and the slot alignment need local wall times mapped to instants, which must
 * hold on DST days (23 or 25 hours). Offsets come from the zone's tz database file when the hub
 * registered it (src/lib/tzif.ts, src/lib/tzdb.ts: Intl costs ~8 MB of RSS, issue 17), else from Intl.
 */
import { registeredOffset } from '../lib/tzif.js'

export interface WallTime {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** The wall time from Intl itself (slow: tens of microseconds; offsetAt caches what it finds). */
function intlWallTimeAt(timeZone: string, epochS: number): WallTime {
  const parts = formatter(timeZone).formatToParts(Math.floor(epochS) * 1000)
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0)
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') }
}

function zoneOffsetAt(timeZone: string, epochS: number): number {
  const registered = registeredOffset(timeZone, epochS)
  if (registered !== undefined) return registered
  const w = intlWallTimeAt(timeZone, epochS)
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) / 1000 - Math.floor(epochS)
}

/**
 * Offsets per quarter hour of UTC. Every booking asks local dates and times several times (the
 * calendar, refusal wording), and Intl is the slowest step of a booking (issue 17). Zones change
 * offset at most once in a quarter hour, so a quarter whose first and last second share an
 * offset has it throughout; a quarter holding a change is not cached and asks Intl each time.
 */
const QUARTER_S = 900
const MAX_CACHED_QUARTERS = 50_000
const offsetCache = new Map<string, Map<number, number>>()

/** Offset of the zone from UTC at an instant, in seconds (positive east of Greenwich). */
export function offsetAt(timeZone: string, epochS: number): number {
  const second = Math.floor(epochS)
  const quarter = Math.floor(second / QUARTER_S)
  let zone = offsetCache.get(timeZone)
  if (!zone) offsetCache.set(timeZone, (zone = new Map()))
  const cached = zone.get(quarter)
  if (cached !== undefined) return cached
  const first = zoneOffsetAt(timeZone, quarter * QUARTER_S)
  const last = zoneOffsetAt(timeZone, quarter * QUARTER_S + QUARTER_S - 1)
  if (first !== last) return zoneOffsetAt(timeZone, second)
  if (zone.size >= MAX_CACHED_QUARTERS) zone.clear()
  zone.set(quarter, first)
  return first
}

/** The wall time shown in `timeZone` at an instant (epoch seconds). */
export function wallTimeAt(timeZone: string, epochS: number): WallTime {
  const second = Math.floor(epochS)
  const local = new Date((second + offsetAt(timeZone, second)) * 1000)
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
  }
}

/**
 * The instant of a local wall time. A time repeated by a fall-back change gives its first
 * (earlier) instant; a time skipped by a spring-forward change gives the instant the
 * clocks jumped to plus the same distance (02:30 in a 02:00->03:00 gap is 03:30), like
 * Temporal's "compatible" disambiguation.
 */
export function instantOf(timeZone: string, wall: Omit<WallTime, 'second'> & { second?: number }): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second ?? 0) / 1000
  // Offsets a few hours either side cover every DST change; take the earliest candidate that matches.
  const offsets = new Set([offsetAt(timeZone, asUtc - 86_400 / 2), offsetAt(timeZone, asUtc), offsetAt(timeZone, asUtc + 86_400 / 2)])
  const matches = [...offsets].map((o) => asUtc - o).filter((t) => offsetAt(timeZone, t) === asUtc - t)
  if (matches.length > 0) return Math.min(...matches)
  // In a gap: use the offset from before the change.
  return asUtc - offsetAt(timeZone, asUtc - 86_400 / 2)
}

/** Epoch seconds of local midnight starting `date` ('YYYY-MM-DD'). */
export function startOfDay(timeZone: string, date: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number]
  return instantOf(timeZone, { year, month, day, hour: 0, minute: 0 })
}

/** [from, to) of a local calendar day in epoch seconds: 23, 24 or 25 hours. */
export function dayBounds(timeZone: string, date: string): { from: number; to: number } {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const next = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10)
  return { from: startOfDay(timeZone, date), to: startOfDay(timeZone, next) }
}

/** 'YYYY-MM-DD' of an instant in the zone. */
export function dateAt(timeZone: string, epochS: number): string {
  const w = wallTimeAt(timeZone, epochS)
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`
}

/** 'HH:MM' of an instant in the zone. */
export function clockAt(timeZone: string, epochS: number): string {
  const w = wallTimeAt(timeZone, epochS)
  return `${pad(w.hour)}:${pad(w.minute)}`
}

/** The first slot boundary at or after `epochS`; slots are aligned to local wall time (DESIGN §4 grid). */
export function nextSlotBoundary(timeZone: string, epochS: number, slotS: number): number {
  const offset = offsetAt(timeZone, epochS)
  return Math.ceil((epochS + offset) / slotS) * slotS - offset
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}
