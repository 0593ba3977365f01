/**
 * Archiving (issue 13): sessions that ended more than HUB_ARCHIVE_AFTER_DAYS ago leave the live
 * index (memory, start-up load, every conflict and grid scan) for the archive sublevel, where
 * reports and lookups by id still find them. Sweeps run at start (in the background, after the
 * hub is up) and then once a day, each moving at most `chunk` sessions per synced batch through
 * the one writer, so bookings queued meanwhile wait for one batch at most.
 */
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { SessionRecord } from '../protocol/messages.js'

const DAY_S = 86_400

/** PURE: ended for good (completed, cancelled, or a block past its end) before `cutoffS`. */
export function isArchivable(r: SessionRecord, cutoffS: number): boolean {
  if (r.end_time > cutoffS) return false
  return r.status === 'completed' || r.status === 'cancelled' || r.status === 'maintenance'
}

export interface ArchiverDeps {
  clock: Clock
  log: Logger
  afterDays: number
  /** ids of live sessions archivable at the cutoff, oldest end first */
  candidates(cutoffS: number): number[]
  /** moves those of `ids` still archivable at the cutoff, in one synced batch; resolves with how many moved */
  move(ids: readonly number[], cutoffS: number): Promise<number>
  /** sessions per batch (default 1000) */
  chunk?: number
}

export function createArchiver({ clock, log, afterDays, candidates, move, chunk = 1000 }: ArchiverDeps) {
  let cancelTimer: (() => void) | undefined
  let running: Promise<number> | undefined
  let stopped = false

  const runSweep = async (): Promise<number> => {
    const cutoffS = clock.now() / 1000 - afterDays * DAY_S
    const ids = candidates(cutoffS)
    let moved = 0
    for (let i = 0; i < ids.length && !stopped; i += chunk) moved += await move(ids.slice(i, i + chunk), cutoffS)
    if (moved > 0) log.info({ moved, afterDays }, 'sessions archived')
    return moved
  }

  /** One sweep at a time; a second caller shares the running one. */
  const sweep = (): Promise<number> => {
    running ??= runSweep().finally(() => (running = undefined))
    return running
  }

  const arm = () => {
    if (stopped) return
    cancelTimer = clock.setTimeout(() => {
      sweep()
        .catch((error: unknown) => log.error({ err: error }, 'archive sweep failed'))
        .finally(arm)
    }, DAY_S * 1000)
  }

  return {
    sweep,
    /** The first sweep runs in the background: start-up does not wait for a backlog to move. */
    start() {
      stopped = false
      sweep()
        .catch((error: unknown) => log.error({ err: error }, 'archive sweep failed'))
        .finally(arm)
    },
    /** Stops queuing batches and waits for the one in flight. */
    async stop() {
      stopped = true
      cancelTimer?.()
      await running?.catch(() => undefined)
    },
  }
}
