/**
 * Start-up and footprint benchmark (issue 17): the real hub process (`node dist/main.js`, the
 * bundle `npm run build` writes) with HUB_MACHINES=1-1000, on an empty data dir and on one holding
 * a year of archived sessions (the reports bench's year: 80 bays with ~10 sessions a day, ~300,000
 * sessions, all but the last 35 days in the `sessions-archive` sublevel, as the hub's sweep leaves
 * them). Per process: spawn -> first `/api/health` 200 (polled every 5 ms), then RSS after 2 s idle
 * with nothing connected, and the CPU time the process used until its first 200 (user + system,
 * all threads; less sensitive than wall time to the shared machine's load). References from the same invocation: bare `node` (node:http answering
 * /api/health) and the floor, a process that imports only fastify + aedes + level, opens a LevelDB,
 * starts a broker and listens (scripts/bench/lib/startup-floor.mjs). Runs interleave the four
 * processes so load on the shared machine hits them alike. The uncounted warm-up round also makes
 * each data dir's code cache (src/boot.ts), so the counted runs start as a hub does after its first start. Also prints the import cost of the
 * optional packages loaded only on first use (mqtt for the bridge) and of prom-client when installed.
 *
 *   npm run bench -- startup [runs=5] [machines=1000]
 *   BENCH_BEFORE=/path/to/other/checkout/dist/main.js npm run bench -- startup   (adds that build, e.g.
 *   a commit before a change, as a column: the same year, the same runs)
 *
 * The hub runs as the systemd unit starts it: with the unit's NODE_OPTIONS (V8 flags, e.g. the
 * young generation's size) and its other variables (the allocator's), read from
 * scripts/systemd/dispenser-hub.service; the references run with none. BENCH_NODE_OPTIONS='' runs
 * the hub without the flags (or with others) to compare, BENCH_UNIT_ENV=0 without the variables.
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../test/helpers/free-port.js'
import { writeHistory } from './lib/history.js'
import { mib, percentile } from './lib/stats.js'
import { describeEnv, unitEnvironment } from './lib/unit-env.js'

const RUNS = Number(process.argv[2] ?? 5)
const MACHINES = Number(process.argv[3] ?? 1000)
const ARCHIVE_AFTER_DAYS = 35
const IDLE_MS = 2000
const BEFORE = process.env.BENCH_BEFORE
const TOKEN = 'bench-admin-token-0123456789abcdef'
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** `Environment=NODE_OPTIONS=...` of the unit: the flags the hub runs with on the Pi */
const unitNodeOptions = /^Environment=("?)NODE_OPTIONS=(.*?)\1$/m.exec(readFileSync(join(repoRoot, 'scripts', 'systemd', 'dispenser-hub.service'), 'utf8'))?.[2]?.trim() ?? ''
const HUB_FLAGS = (process.env.BENCH_NODE_OPTIONS ?? unitNodeOptions).split(/\s+/).filter(Boolean)
const floorScript = join(repoRoot, 'scripts', 'bench', 'lib', 'startup-floor.mjs')
/** the unit's other variables (the allocator's: MALLOC_ARENA_MAX, GLIBC_TUNABLES), for the hub's runs; none with BENCH_UNIT_ENV=0 */
const { NODE_OPTIONS: _flags, ...UNIT_ENV } = process.env.BENCH_UNIT_ENV === '0' ? {} : unitEnvironment(repoRoot)

interface Sample {
  startupMs: number
  /** CPU time (user + system, all threads) the process used until its first 200: less load-sensitive than wall time */
  cpuMs: number
  rss: number
}

function healthStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/health', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
    req.end()
  })
}

/** utime + stime of /proc/<pid>/stat, in ms (clock ticks of 10 ms). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kb ?? 0) * 1024
}

/** Spawns `args` with `env`, measures spawn -> health 200 and the idle RSS, stops it (SIGTERM: LevelDB closes cleanly). */
async function once(args: string[], env: Record<string, string>): Promise<Sample> {
  const port = await freePort()
  const t0 = performance.now()
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, HUB_HTTP_PORT: String(port), HUB_MQTT_PORT: '0', HUB_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    const deadline = Date.now() + 120_000
    while ((await healthStatus(port)) !== 200) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited during start-up`)
      if (Date.now() > deadline) throw new Error(`${args.join(' ')}: no /api/health 200 in 120 s`)
      await new Promise((r) => setTimeout(r, 5))
    }
    const startupMs = performance.now() - t0
    const cpuMs = cpuOf(child.pid!)
    await new Promise((r) => setTimeout(r, IDLE_MS))
    return { startupMs, cpuMs, rss: rssOf(child.pid!) }
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killer)
  }
}

/** ms and MB a fresh `node` spends importing `specifier` (resolved from the repo), or undefined when not installed. */
async function importCost(specifier: string): Promise<{ ms: number; mb: number } | undefined> {
  try {
    createRequire(join(repoRoot, 'package.json')).resolve(specifier)
  } catch {
    return undefined
  }
  const code = `const r0 = process.memoryUsage().rss; const t0 = performance.now(); await import(${JSON.stringify(specifier)}); console.log(JSON.stringify({ ms: performance.now() - t0, mb: (process.memoryUsage().rss - r0) / 1048576 }))`
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.once('exit', () => {
      try {
        resolve(JSON.parse(out) as { ms: number; mb: number })
      } catch {
        resolve(undefined)
      }
    })
  })
}

const hubEnv = (dir: string) => ({ ...UNIT_ENV, HUB_DATA_DIR: dir, HUB_MACHINES: `1-${MACHINES}`, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: TOKEN, HUB_ARCHIVE_AFTER_DAYS: String(ARCHIVE_AFTER_DAYS) })

console.log(`startup benchmark: ${RUNS} runs each, HUB_MACHINES=1-${MACHINES}, RSS after ${IDLE_MS / 1000} s idle; node ${process.version}; hub: ${describeEnv(UNIT_ENV)} node ${[...HUB_FLAGS, 'dist/main.js'].join(' ')}`)
const dirs = { empty: mkdtempSync(join(tmpdir(), 'bench-startup-empty-')), year: mkdtempSync(join(tmpdir(), 'bench-startup-year-')), beforeYear: mkdtempSync(join(tmpdir(), 'bench-startup-before-year-')), floor: mkdtempSync(join(tmpdir(), 'bench-startup-floor-')) }
try {
  const year = await writeHistory(dirs.year, 365, true, { bays: 80, perBayDay: 10.3, archiveAfterDays: ARCHIVE_AFTER_DAYS })
  console.log(`a year of history: ${year.total} sessions, ${year.inArchive} of them archived, ${year.live} live (written in ${year.seconds.toFixed(1)} s)`)
  // The other build gets its own copy of the year: both builds' code caches live in the data dir
  // under the same name (src/lib/code-cache.ts), so in one dir each run would find the other's,
  // reject it and compile from source, and the comparison would be of two cacheless starts.
  if (BEFORE) cpSync(dirs.year, dirs.beforeYear, { recursive: true })
  const kinds = {
    bare: () => once([floorScript], { FLOOR_BARE: '1', HUB_DATA_DIR: dirs.floor }),
    floor: () => once([floorScript], { HUB_DATA_DIR: dirs.floor }),
    hubEmpty: () => once([...HUB_FLAGS, join(repoRoot, 'dist', 'main.js')], hubEnv(dirs.empty)),
    hubYear: () => once([...HUB_FLAGS, join(repoRoot, 'dist', 'main.js')], hubEnv(dirs.year)),
    ...(HUB_FLAGS.length > 0 && { plainYear: () => once([join(repoRoot, 'dist', 'main.js')], hubEnv(dirs.year)) }),
    ...(BEFORE && { beforeYear: () => once([...HUB_FLAGS, BEFORE], hubEnv(dirs.beforeYear)) }),
  } as Record<string, () => Promise<Sample>>
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]))
  // one warm-up round (disk cache, first-start files such as the enrollment secret), not counted
  for (const run of Object.values(kinds)) await run()
  for (let i = 0; i < RUNS; i++) for (const [kind, run] of Object.entries(kinds)) samples[kind]!.push(await run())

  const stat = (kind: string, pick: (s: Sample) => number, p: number | 'max') => {
    const sorted = samples[kind]!.map(pick).sort((a, b) => a - b)
    return p === 'max' ? sorted.at(-1)! : percentile(sorted, p)
  }
  // extra columns: the same year without the unit's node options, and another build
  const extras = [...(HUB_FLAGS.length > 0 ? [['plainYear', 'year,noflags']] : []), ...(BEFORE ? [['beforeYear', 'before+year']] : [])] as Array<[string, string]>
  const cols = ['bare node', 'floor', 'hub empty', 'hub + year', 'empty/floor', 'year/floor', ...extras.map(([, label]) => label)]
  const row = (label: string, pick: (s: Sample) => number, p: number | 'max', unit: (n: number) => number) => {
    const v = (['bare', 'floor', 'hubEmpty', 'hubYear'] as const).map((k) => unit(stat(k, pick, p)))
    const ratio = (a: number) => (v[1] ? (a / v[1]!).toFixed(2) : '-')
    const more = extras.map(([kind]) => String(Math.round(unit(stat(kind, pick, p)) * 10) / 10).padStart(14)).join('')
    console.log(label.padEnd(34) + v.map((n) => String(Math.round(n * 10) / 10).padStart(11)).join('') + ratio(v[2]!).padStart(13) + ratio(v[3]!).padStart(12) + more)
  }
  console.log(`\n${''.padEnd(34)}${cols.map((c, i) => c.padStart(i < 4 ? 11 : i === 4 ? 13 : i === 5 ? 12 : 14)).join('')}`)
  row('spawn -> /api/health 200, p50 ms', (s) => s.startupMs, 50, (n) => n)
  row('spawn -> /api/health 200, max ms', (s) => s.startupMs, 'max', (n) => n)
  row('CPU used until then, p50 ms', (s) => s.cpuMs, 50, (n) => n)
  row('RSS idle, nothing connected, p50 MB', (s) => s.rss, 50, mib)
  row('RSS idle, max MB', (s) => s.rss, 'max', mib)
  const hubRss = mib(stat('hubEmpty', (s) => s.rss, 50))
  const hubStart = stat('hubYear', (s) => s.startupMs, 50)
  console.log(`\ngoals (issue 17): spawn -> health <= 500 ms with a year: p50 ${Math.round(hubStart)} ms; RSS idle <= 70 MB: p50 ${hubRss} MB`)

  console.log('\nimport cost in a fresh node (loaded by the hub only on first use, or not yet):')
  for (const pkg of ['mqtt', 'prom-client']) {
    const cost = await importCost(pkg)
    console.log(`  ${pkg.padEnd(12)} ${cost ? `${Math.round(cost.ms)} ms, +${cost.mb.toFixed(1)} MB RSS` : 'not installed'}`)
  }
} finally {
  for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true })
}
