/**
 * The schedule grid of a date, built once and kept until a session on that date changes
 * (issue 10 defect 4: a kiosk asking for the schedule 1,000 times must not rebuild a
 * 288-row grid 1,000 times). Both doors (HTTP /api/schedule, MQTT Request `schedule`) read it
 * through scheduling.scheduleFor. The cached object is shared: callers must not mutate it.
 *
 * Issue 17: each date also keeps its serialised replies (per format and unsellable overlay), so
 * a repeated request costs neither a build nor a JSON.stringify; they go with the grid.
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
  /**
   * What `make` derives from the date's grid for `key` (a format and the overlay it was made
   * with), made once and kept until the grid is dropped. A date keeps its last few keys.
   */
  reply<T>(date: string, key: string, make: (grid: Schedule) => T): T
  /** a session changed: drop the dates its old or new interval touches */
  changed(session: SessionRecord, previous?: SessionRecord): void
  clear(): void
  stats(): { hits: number; builds: number; dates: number; replyHits: number; replyBuilds: number }
}

/** Keys kept per date: both formats, with the overlay of now and of the slot before it. */
const MAX_REPLIES = 4

export function createGridCache({ build, bounds, maxDates = 32 }: GridCacheDeps): GridCache {
  interface Entry {
    from: number
    to: number
    schedule: Schedule
    replies: Map<string, unknown>
  }
  const dates = new Map<string, Entry>()
  let hits = 0
  let builds = 0
  let replyHits = 0
  let replyBuilds = 0
  const touches = (e: { from: number; to: number }, s: SessionRecord) => s.start_time < e.to && s.end_time > e.from
  const entryOf = (date: string): Entry => {
    const cached = dates.get(date)
    if (cached) {
      hits++
      // Re-insert: the Map's order is least recently used first.
      dates.delete(date)
      dates.set(date, cached)
      return cached
    }
    builds++
    const entry = { ...bounds(date), schedule: build(date), replies: new Map<string, unknown>() }
    dates.set(date, entry)
    if (dates.size > maxDates) dates.delete(dates.keys().next().value!)
    return entry
  }
  return {
    get: (date) => entryOf(date).schedule,
    reply<T>(date: string, key: string, make: (grid: Schedule) => T): T {
      const entry = entryOf(date)
      if (entry.replies.has(key)) {
        replyHits++
        return entry.replies.get(key) as T
      }
      replyBuilds++
      const value = make(entry.schedule)
      entry.replies.set(key, value)
      // Overlay keys move with the clock (one per slot while a bay is unsellable): keep the newest.
      if (entry.replies.size > MAX_REPLIES) entry.replies.delete(entry.replies.keys().next().value!)
      return value
    },
    changed(session, previous) {
      for (const [date, entry] of dates) {
        if (touches(entry, session) || (previous && touches(entry, previous))) dates.delete(date)
      }
    },
    clear: () => dates.clear(),
    stats: () => ({ hits, builds, dates: dates.size, replyHits, replyBuilds }),
  }
}
