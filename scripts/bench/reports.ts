/**
 * Reports and archive benchmark (issue 13), against the real hub process (`node dist/main.js`):
 * a year of history at 80 bays (~300,000 sessions) against a month of it, written straight into
 * LevelDB in the session store's own format (store.ts keys and values; seconds, not the hours the
 * API would take). Prints, for each history: generation time, start-up time (spawn to
 * /api/health 200), `sessions.csv` export time / size / rows and the hub's peak RSS while
 * exporting, heat-map and daily-totals query times, one schedule request — and, as the reference
 * for the archive, start-up with the same year all in the live sublevel (as before archiving),
 * plus how long the first archive sweep takes to move it.
 *
 *   npm run bench -- reports [bays=80] [sessionsPerBayPerDay=10.3]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../test/helpers/free-port.js'
import { onJsonLines } from '../../test/helpers/json-lines.js'
import { writeHistory } from './lib/history.js'
import { mib, printComparison } from './lib/stats.js'

const BAYS = Number(process.argv[2] ?? 80)
const PER_BAY_DAY = Number(process.argv[3] ?? 10.3)
const ARCHIVE_AFTER_DAYS = 35
const SHAPE = { bays: BAYS, perBayDay: PER_BAY_DAY, archiveAfterDays: ARCHIVE_AFTER_DAYS }
const TOKEN = 'bench-admin-token-0123456789abcdef'
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

interface Hub {
  child: ChildProcess
  port: number
  logs: Array<Record<string, unknown>>
  startupMs: number
  kill(): Promise<void>
}

function get(port: number, path: string, onChunk?: (chunk: Buffer) => void): Promise<{ status: number; body: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      const keep: Buffer[] = []
      let bytes = 0
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (onChunk) onChunk(chunk)
        else keep.push(chunk)
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(keep).toString(), bytes }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** Spawns dist/main.js and polls /api/health every 10 ms: start-up = spawn to the first 200. */
async function startHubOnce(dir: string): Promise<Hub> {
  const port = await freePort()
  const t0 = performance.now()
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'main.js')], {
    cwd: repoRoot,
    env: { ...process.env, HUB_DATA_DIR: dir, HUB_MACHINES: `1-${BAYS}`, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: TOKEN, HUB_HTTP_PORT: String(port), HUB_MQTT_PORT: '0', HUB_LOG_LEVEL: 'info', HUB_ARCHIVE_AFTER_DAYS: String(ARCHIVE_AFTER_DAYS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const logs: Array<Record<string, unknown>> = []
  onJsonLines(child.stdout!, (entry) => entry && logs.push(entry))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 300_000
  for (;;) {
    if (child.exitCode !== null) throw new Error('hub exited during start-up')
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error('hub did not answer /api/health in 300 s')
    }
    const ok = await get(port, '/api/health').then((r) => r.status === 200, () => false)
    if (ok) break
    await new Promise((r) => setTimeout(r, 10))
  }
  const startupMs = performance.now() - t0
  return {
    child, port, logs, startupMs,
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}

/** The faster of two start-ups (the 2 shared cores make single runs noisy); the second hub stays up. */
async function startHub(dir: string): Promise<Hub> {
  const first = await startHubOnce(dir)
  await first.kill()
  const second = await startHubOnce(dir)
  second.startupMs = Math.min(first.startupMs, second.startupMs)
  return second
}

/** kB fields of /proc/<pid>/status (Linux). */
function procStatus(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}

async function timedGet(port: number, path: string, runs = 3) {
  let best = Infinity
  let body = ''
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    const r = await get(port, path)
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body.slice(0, 200)}`)
    best = Math.min(best, performance.now() - t0)
    body = r.body
  }
  return { ms: best, body }
}

async function scenario(days: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-reports-'))
  try {
    const gen = await writeHistory(dir, days, true, SHAPE)
    const hub = await startHub(dir)
    try {
      const loaded = hub.logs.find((l) => l.msg === 'sessions loaded')
      const pid = hub.child.pid!
      const before = procStatus(pid)
      // Export the whole history (at most 366 days per request: the year is one request).
      const to = new Date().toISOString().slice(0, 10) // the past year and today: 366 days, the most one request takes
      let peak = before.rss
      const sampler = setInterval(() => (peak = Math.max(peak, procStatus(pid).rss)), 10)
      let rows = -1 // the header (no cell of this history holds a line break)
      const t0 = performance.now()
      const exp = await get(hub.port, `/api/export/sessions.csv?from=${gen.fromDate}&to=${to}`, (chunk) => {
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) rows++
      })
      const exportMs = performance.now() - t0
      clearInterval(sampler)
      if (exp.status !== 200) throw new Error(`export: ${exp.status}`)
      peak = Math.max(peak, procStatus(pid).rss)
      const heat52 = await timedGet(hub.port, '/api/reports/heatmap?weeks=52', 1)
      const heat52cached = await timedGet(hub.port, '/api/reports/heatmap?weeks=52', 3)
      const heat4 = await timedGet(hub.port, '/api/reports/heatmap?weeks=4')
      const daily = await timedGet(hub.port, `/api/reports/daily?from=${gen.fromDate}&to=${new Date().toISOString().slice(0, 10)}`, 2)
      const sched = await timedGet(hub.port, `/api/schedule?date=${new Date().toISOString().slice(0, 10)}`)
      const byId = await timedGet(hub.port, '/api/sessions/1') // the oldest: in the archive
      return { gen, loaded: Number(loaded?.sessions ?? -1), startupMs: hub.startupMs, exportMs, rows, bytes: exp.bytes, rssBefore: before.rss, rssPeak: peak, heat52: heat52.ms, heat52cached: heat52cached.ms, heat4: heat4.ms, daily: daily.ms, sched: sched.ms, byId: byId.ms }
    } finally {
      await hub.kill()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The year all in the live sublevel (as before archiving): start-up, then the first sweep moving it. */
async function unarchived(days: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-reports-live-'))
  try {
    const gen = await writeHistory(dir, days, false, SHAPE)
    const hub = await startHubOnce(dir) // once: a second start would find the sweep's work done
    try {
      const t0 = performance.now()
      const deadline = Date.now() + 600_000
      while (!hub.logs.some((l) => l.msg === 'sessions archived') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      const sweepS = (performance.now() - t0) / 1000
      const moved = Number(hub.logs.find((l) => l.msg === 'sessions archived')?.moved ?? 0)
      const rss = procStatus(hub.child.pid!).rss
      await hub.kill()
      const again = await startHubOnce(dir)
      const loadedAfter = Number(again.logs.find((l) => l.msg === 'sessions loaded')?.sessions ?? -1)
      await again.kill()
      return { gen, startupMs: hub.startupMs, loaded: Number(hub.logs.find((l) => l.msg === 'sessions loaded')?.sessions ?? -1), sweepS, moved, rss, restartMs: again.startupMs, loadedAfter }
    } finally {
      await hub.kill()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

console.log(`reports benchmark: hub process (dist/main.js), ${BAYS} bays, ~${PER_BAY_DAY} sessions per bay and day, HUB_ARCHIVE_AFTER_DAYS=${ARCHIVE_AFTER_DAYS}; node ${process.version}`)
const month = await scenario(30)
const year = await scenario(365)
printComparison(`history with archiving: 1 month (${month.gen.total} sessions) vs 1 year (${year.gen.total} sessions)`, ['1 month', '1 year'], [
  ['sessions written', month.gen.total, year.gen.total],
  ['  of them in the archive', month.gen.inArchive, year.gen.inArchive],
  ['generation straight into LevelDB, s', month.gen.seconds, year.gen.seconds],
  ['sessions loaded at start-up', month.loaded, year.loaded],
  ['start-up, spawn to /api/health 200, ms', month.startupMs, year.startupMs],
  ['sessions.csv export, ms', month.exportMs, year.exportMs],
  ['sessions.csv rows', month.rows, year.rows],
  ['sessions.csv size, MiB', mib(month.bytes), mib(year.bytes)],
  ['export rows/s', Math.round(month.rows / (month.exportMs / 1000)), Math.round(year.rows / (year.exportMs / 1000))],
  ['hub RSS before export, MiB', mib(month.rssBefore), mib(year.rssBefore)],
  ['hub peak RSS during export, MiB', mib(month.rssPeak), mib(year.rssPeak)],
  ['heat-map 52 weeks, first request, ms', month.heat52, year.heat52],
  ['heat-map 52 weeks, again (cached for the day), ms', month.heat52cached, year.heat52cached],
  ['heat-map 4 weeks, ms', month.heat4, year.heat4],
  ['daily totals, whole history, ms', month.daily, year.daily],
  ["GET /api/schedule today, ms", month.sched, year.sched],
  ['GET /api/sessions/1 (archived in the year), ms', month.byId, year.byId],
])
const before = await unarchived(365)
printComparison(`start-up with the year: all live (before archiving) vs archived (${before.gen.total} sessions)`, ['all live', 'archived'], [
  ['sessions loaded at start-up', before.loaded, year.loaded],
  ['start-up, spawn to /api/health 200, ms', before.startupMs, year.startupMs],
  ['first sweep moving the backlog, s', before.sweepS, 0],
  ['  sessions it moved', before.moved, 0],
  ['restart after that sweep, ms', before.restartMs, year.startupMs],
  ['  sessions loaded then', before.loadedAfter, year.loaded],
])
