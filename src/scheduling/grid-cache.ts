/**
 * The schedule grid of a date, built once and kept until a session on that date changes
 * (issue 10 defect 4: a kiosk asking for the schedule 1,000 times must not rebuild a
 * 288-row grid 1,000 times). Both doors (HTTP /api/schedule, MQTT Request `schedule`) read it
 * through scheduling.scheduleFor. The cached object is shared: callers must not mutate it.
 */
import type { Schedule, SessionRecord } from '../protocol/messages.js'

export interface GridCacheDeps {
  /** build the grid of a date (buildScheduleGrid over the date's sessions) */
  build(date: string): Schedule
  /** [from, to) of the date in epoch s: which changes touch it */
  bounds(date: string): { from: number; to: number }
  /** most dates kept (least recently used go first) */
  maxDates?: number
}

export interface GridCache {
  get(date: string): Schedule
  /** a session changed: drop the dates its old or new interval touches */
  changed(session: SessionRecord, previous?: SessionRecord): void
  clear(): void
  stats(): { hits: number; builds: number; dates: number }
}

export function createGridCache({ build, bounds, maxDates = 32 }: GridCacheDeps): GridCache {
  const dates = new Map<string, { from: number; to: number; schedule: Schedule }>()
  let hits = 0
  let builds = 0
  const touches = (e: { from: number; to: number }, s: SessionRecord) => s.start_time < e.to && s.end_time > e.from
  return {
    get(date) {
      const cached = dates.get(date)
      if (cached) {
        hits++
        // Re-insert: the Map's order is least recently used first.
        dates.delete(date)
        dates.set(date, cached)
        return cached.schedule
      }
      builds++
      const entry = { ...bounds(date), schedule: build(date) }
      dates.set(date, entry)
      if (dates.size > maxDates) dates.delete(dates.keys().next().value!)
      return entry.schedule
    },
    changed(session, previous) {
      for (const [date, entry] of dates) {
        if (touches(entry, session) || (previous && touches(entry, previous))) dates.delete(date)
      }
    },
    clear: () => dates.clear(),
    stats: () => ({ hits, builds, dates: dates.size }),
  }
}
