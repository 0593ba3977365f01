/**
 * A venue's history written straight into LevelDB in the session store's own format (store.ts
 * keys and values), for the reports and startup benchmarks: per bay and day ~perBayDay sessions,
 * optionally with what ended more than archiveAfterDays ago in the archive sublevel.
 */
import { join } from 'node:path'
import { Level } from 'level'
import type { SessionRecord } from '../../../src/protocol/messages.js'
import { archiveIdKey, archiveTimeKey, sessionKey, type StoredSession } from '../../../src/scheduling/store.js'

const DAY = 86_400

export interface HistoryShape {
  bays: number
  perBayDay: number
  archiveAfterDays: number
}

const NAMES = ['token:lobby-kiosk', 'staff:mia', 'staff:zoë', 'node:reservation_interface', 'token:web "online", EU']

/** Deterministic pseudo-random (the same history every run). */
function rng(seed: number) {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32)
}

/**
 * Writes `days` of history ending now: per bay and day ~perBayDay sessions of 30-75 min between
 * 06:00 and 23:00 UTC (5 % cancelled, some group bookings of two bays), plus a week of future
 * bookings. With `archived`, what ended more than archiveAfterDays ago is in the archive sublevel, as
 * the hub's sweep leaves it; without, everything is in the live sublevel (before archiving).
 */
export async function writeHistory(dir: string, days: number, archived: boolean, { bays: BAYS, perBayDay: PER_BAY_DAY, archiveAfterDays: ARCHIVE_AFTER_DAYS }: HistoryShape) {
  const t0 = performance.now()
  const db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  const live = db.sublevel<string, StoredSession>('sessions', { valueEncoding: 'json' })
  const archive = db.sublevel<string, unknown>('sessions-archive', { valueEncoding: 'json' })
  const now = Math.floor(Date.now() / 1000)
  const today = now - (now % DAY)
  const cutoff = now - ARCHIVE_AFTER_DAYS * DAY
  const random = rng(days)
  let id = 0
  let ops: Array<{ type: 'put'; key: string; value: unknown; sublevel: typeof live | typeof archive }> = []
  let total = 0
  let inArchive = 0
  let past = 0
  const flush = async () => {
    if (ops.length) await db.batch(ops as never)
    ops = []
  }
  const put = (record: SessionRecord) => {
    const value: StoredSession = { record, submitted: null }
    total++
    if (record.end_time <= now) past++
    if (archived && record.end_time <= cutoff) {
      inArchive++
      const timeKey = archiveTimeKey(record)
      ops.push({ type: 'put', key: timeKey, value, sublevel: archive }, { type: 'put', key: archiveIdKey(record.session_id), value: timeKey, sublevel: archive })
    } else ops.push({ type: 'put', key: sessionKey(record.session_id), value, sublevel: live })
  }
  for (let d = -days; d < 7; d++) {
    const dayStart = today + d * DAY
    // Bays in pairs sharing one timeline of slots: a slot is a group booking of both bays (5 %)
    // or one session on each; so ~PER_BAY_DAY sessions per bay and day, and never a conflict.
    for (let bay = 1; bay < BAYS; bay += 2) {
      const n = Math.round((PER_BAY_DAY / 0.975) * (0.6 + random() * 0.8))
      let t = dayStart + 6 * 3600
      for (let k = 0; k < n; k++) {
        const duration = (30 + Math.floor(random() * 10) * 5) * 60
        const start = t + Math.floor(random() * 2) * 300
        const end = start + duration
        if (end > dayStart + 23 * 3600) break
        t = end
        const group = random() < 0.05
        for (const bays of group ? [[bay, bay + 1]] : [[bay], [bay + 1]]) {
          const status: SessionRecord['status'] = end <= now ? (random() < 0.05 ? 'cancelled' : 'completed') : 'reserved'
          put({
            session_id: ++id,
            machine_id: bays,
            status,
            start_time: start,
            end_time: end,
            duration,
            origin_node: 'kiosk_interface',
            booked_by: NAMES[id % NAMES.length]!,
            created_at: start - 86_400,
            updated_at: end,
          })
        }
        if (ops.length >= 20_000) await flush()
      }
    }
  }
  await flush()
  // A hub that ran for a year has its tables compacted; a fresh bulk load would leave the whole
  // write-ahead log to replay at the first open, which no real start-up pays.
  // (level's types are the browser-neutral surface; in Node it is classic-level, which compacts)
  await (db as unknown as { compactRange(start: string, end: string): Promise<void> }).compactRange('\x00', '\xff')
  await db.close()
  return { total, inArchive, live: total - inArchive, past, seconds: (performance.now() - t0) / 1000, fromDate: new Date((today - days * DAY) * 1000).toISOString().slice(0, 10) }
}

