/**
 * The hub's own event-loop delay, for /metrics and the flood benchmark (issue 10: "the event loop
 * must never block long enough to expire a 10 s keep-alive"). Measured by Node itself
 * (perf_hooks.monitorEventLoopDelay); each reading covers the time since the previous one, so a
 * Prometheus scrape or a benchmark scenario sees the worst stall of its own window, not of the
 * whole uptime.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

export interface EventLoopDelayWindow {
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** seconds since the previous reading */
  windowS: number
}

export interface EventLoopDelay {
  /** The delay since the previous call (or since start), then starts a new window. */
  read(): EventLoopDelayWindow
  stop(): void
}

const ms = (ns: number) => Math.round(ns / 1e4) / 100

export function createEventLoopDelay(now: () => number = () => performance.now()): EventLoopDelay {
  // 10 ms resolution: a stall shorter than that cannot threaten a keep-alive measured in seconds
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  let since = now()
  return {
    read() {
      const at = now()
      const empty = histogram.count === 0
      const window = {
        p50Ms: empty ? 0 : ms(histogram.percentile(50)),
        p99Ms: empty ? 0 : ms(histogram.percentile(99)),
        maxMs: empty ? 0 : ms(histogram.max),
        windowS: Math.round(at - since) / 1000,
      }
      histogram.reset()
      since = at
      return window
    },
    stop: () => histogram.disable(),
  }
}
