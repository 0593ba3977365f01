/**
 * What /metrics costs (issue 17), on the real hub process (`node dist/main.js`, HUB_MACHINES=1-1000,
 * nothing connected), each figure against a reference from the same process and run:
 *
 *   - RSS once up and /api/health warmed, before prom-client is loaded (it loads at the first
 *     scrape), against RSS after N scrapes (client, default collectors, every family);
 *   - a /metrics scrape (p50 / max of N, text size) against /api/health on the same socket;
 *   - spawn -> /api/health 200, for the record (the start-up bench owns that goal).
 *
 *   npm run bench -- metrics [runs=3] [scrapes=50]
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startHubProcess } from '../../test/helpers/hub-process.js'
import { percentile, printComparison } from './lib/stats.js'

const [runsArg, scrapesArg] = process.argv.slice(2)
const RUNS = Number(runsArg ?? 3)
const SCRAPES = Number(scrapesArg ?? 50)
const TOKEN = `bench-${randomBytes(16).toString('hex')}`

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024

async function timed(port: number, path: string, n: number): Promise<{ p50: number; max: number; bytes: number }> {
  const times: number[] = []
  let bytes = 0
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    const body = await res.text()
    times.push(performance.now() - t0)
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`)
    bytes = body.length
  }
  times.sort((a, b) => a - b)
  return { p50: percentile(times, 50), max: times.at(-1)!, bytes }
}

interface Run { startMs: number; rssUp: number; rssScraped: number; health: Awaited<ReturnType<typeof timed>>; metrics: Awaited<ReturnType<typeof timed>>; first: number }

async function once(): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-metrics-'))
  const t0 = performance.now()
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_MACHINES: '1-1000', HUB_ADMIN_TOKEN: TOKEN }, 60_000, 'dist').catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true })
    throw error
  })
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${hub.httpPort}/api/health`).then((r) => r.status === 200, () => false)
      if (ok) break
      await new Promise((r) => setTimeout(r, 5))
    }
    const startMs = performance.now() - t0
    // the HTTP path warmed by /api/health first, still before the 2 s load, so the RSS step is the client's
    const health = await timed(hub.httpPort, '/api/health', SCRAPES)
    const pid = hub.child.pid!
    const rssUp = rssMb(pid)
    const f0 = performance.now()
    await timed(hub.httpPort, '/metrics', 1) // loads the client
    const first = performance.now() - f0
    const metrics = await timed(hub.httpPort, '/metrics', SCRAPES)
    return { startMs, rssUp, rssScraped: rssMb(pid), health, metrics, first }
  } finally {
    await hub.kill()
    rmSync(dir, { recursive: true, force: true })
  }
}

const runs: Run[] = []
for (let i = 0; i < RUNS; i++) runs.push(await once())
const med = (pick: (r: Run) => number) => percentile(runs.map(pick).sort((a, b) => a - b), 50)

console.log(`\n/metrics cost, hub process with 1,000 bays, ${RUNS} runs (medians), ${SCRAPES} requests each`)
printComparison('memory: before the client is loaded vs after scraping', ['not loaded', 'scraped'], [['RSS, MB', med((r) => r.rssUp), med((r) => r.rssScraped)]])
printComparison('request latency, ms: /api/health vs /metrics', ['/api/health', '/metrics'], [
  ['p50', med((r) => r.health.p50), med((r) => r.metrics.p50)],
  ['max', med((r) => r.health.max), med((r) => r.metrics.max)],
  ['bytes', med((r) => r.health.bytes), med((r) => r.metrics.bytes)],
])
console.log(`\nfirst scrape (loads prom-client): ${med((r) => r.first).toFixed(1)} ms; spawn -> /api/health 200: ${med((r) => r.startMs).toFixed(0)} ms`)
