/**
 * Repeated log lines about untrusted clients, bounded (issue 10 defect 14: 200 refused CONNECTs
 * with 65,000-character ids grew the log by 39 MB). Per kind of line, the first few of each
 * interval are written in full; the rest are counted and reported in one summary line when the
 * interval ends. Strings in the fields are cut to a fixed length, so a line has a bounded size.
 */
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'

export interface LogLimiterOptions {
  log: Logger
  clock: Clock
  /** length of an interval (ms) */
  intervalMs?: number
  /** lines of one kind written in full per interval */
  perInterval?: number
  /** longest string value kept in a line's fields */
  maxFieldLength?: number
}

export interface LogLimiter {
  warn(kind: string, fields: Record<string, unknown>): void
  /** writes the pending summaries now and stops the timer */
  close(): void
}

export function createLogLimiter({ log, clock, intervalMs = 10_000, perInterval = 5, maxFieldLength = 128 }: LogLimiterOptions): LogLimiter {
  const counts = new Map<string, { written: number; suppressed: number }>()
  let cancel: (() => void) | undefined

  const flush = () => {
    cancel = undefined
    for (const [kind, count] of counts) {
      if (count.suppressed > 0) log.warn({ suppressed: count.suppressed, intervalS: intervalMs / 1000 }, `${kind} (repeated, not shown)`)
    }
    counts.clear()
  }

  return {
    warn(kind, fields) {
      let count = counts.get(kind)
      if (!count) {
        count = { written: 0, suppressed: 0 }
        counts.set(kind, count)
      }
      cancel ??= clock.setTimeout(flush, intervalMs)
      if (count.written >= perInterval) {
        count.suppressed++
        return
      }
      count.written++
      log.warn(cut(fields, maxFieldLength), kind)
    },
    close() {
      cancel?.()
      flush()
    },
  }
}

function cut(fields: Record<string, unknown>, max: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    out[key] = typeof value === 'string' && value.length > max ? `${value.slice(0, max)}…(${value.length} chars)` : value
  }
  return out
}
