/**
 * Changeover at scale, black-box (issue 17):
 *
 *   npm run bench -- changeover [N ...] [--prof]      (default: 100 1000)
 *
 * For each N, two runs in this one invocation, against the same dispenser process:
 *   hub:   `node dist/main.js` as its own process (HUB_MACHINES=1-N, a temp HUB_DATA_DIR, free
 *          ports, a credential for every bay written beforehand into the credentials file the hub
 *          reads), N sessions (one per bay, all starting in the same second) booked over REST;
 *   floor: a bare Aedes broker (memory persistence, noDelay) in its own process that publishes the
 *          same N QoS 1 controls at the same second, and N `idle` controls at the end second.
 * The dispensers (scripts/bench/lib/dispensers.mjs) are N lean MQTT clients in a second process:
 * clean session, keep-alive 10 s, a Confirmation and a Report for every control.
 *
 * Printed per N: start_time -> dispenser holds `active` p50/p99, end -> `idle` p50/p99, RSS with N
 * connected, RSS idle with nothing connected, spawn -> ready (hub: /api/health 200; floor: listening),
 * the N dispensers' first connect (hub: every secret checked with a cold cache), hub vs floor with
 * ratios, and the confirmation counts. A control or a Confirmation missing is a failure of the run
 * (exit 1). `--prof` writes a CPU profile of each hub run (node --cpu-prof).
 * BENCH_HUB_MAIN=<main.js> measures another build instead of dist/main.js; BENCH_HUB_BEFORE=<main.js>
 * measures one more build in the same invocation (same floor, same dispensers), shown as `before`
 * (a build made with scripts/build.mjs bundleMain(<dir at the repo root>), as test/build does).
 * BENCH_HUB_FLAGS='--trace-gc ...' adds node flags to the hub runs (e.g. --trace-gc, or --require of
 * a profiler); BENCH_KEEP_LOG=1 keeps each hub's data dir and log (its stdout: pino, --trace-gc).
 *
 * The hub runs with the systemd unit's environment (lib/unit-env.ts: e.g. MALLOC_ARENA_MAX,
 * NODE_OPTIONS), printed in the header; BENCH_UNIT_ENV=0 runs it without. BENCH_BEFORE_NODE_OPTIONS
 * gives the `before` run other NODE_OPTIONS (e.g. the unit's before a change of V8 flags: the same
 * build as BENCH_HUB_BEFORE, other flags); BENCH_BEFORE_ENV='KEY=value ...' other variables
 * (`GLIBC_TUNABLES=` runs it without the unit's allocator tuning). BENCH_SECRET_HASH=scrypt
 * writes the bays' credentials as versions before issue 17 did (scrypt), to measure that path or a
 * build older than the change.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { scrypt } from 'node:crypto'
import { credentialsPath, emptyCredentials, hashSecret, writeCredentials } from '../../src/broker/credentials.js'
import { percentile } from './lib/stats.js'
import { describeEnv, unitEnvironment } from './lib/unit-env.js'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = join(here, '..', '..')
const SECRET = 'bench-dispenser-secret-0123456789'
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef'
/** the hub's shortest session (the REST schema's minimum duration) */
const SESSION_S = 60
/** the floor has no such rule: its off phase comes sooner (the changeover's cost does not depend on the length) */
const FLOOR_SESSION_S = 8
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const nowMs = () => performance.timeOrigin + performance.now()
const HUB_ENV = process.env.BENCH_UNIT_ENV === '0' ? {} : unitEnvironment(repoRoot)
const LEGACY_SCRYPT = process.env.BENCH_SECRET_HASH === 'scrypt'

interface Received {
  status: string
  session_id: number | null
  scheduled_until: number | null
  exchange_id: number
  at: number
}
interface DispenserResults {
  clients: number
  closed: number
  confirmationsSent: number
  unacked: number
  received: Array<{ id: number; controls: Received[] }>
}

interface RunResult {
  onP50: number
  onP99: number
  offP50: number
  offP99: number
  rssConnectedMb: number
  rssIdleMb: number
  readyMs: number
  /** the N dispensers' first connect, all CONNACKs (hub: each secret checked, cache cold) */
  connectMs: number
  /** dispensers that got their `active` (with its deadline) / their `idle` */
  gotOn: number
  gotOff: number
  /** Confirmations the broker side counted, on / off */
  confirmedOn: number
  confirmedOff: number
  /** controls beyond one on and one off per bay (retries) */
  extra: number
  /** dispenser connections lost during the run */
  dropped: number
  cpuOnMs: number
  cpuOffMs: number
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)
  return line ? Math.round(Number(line[1]) / 102.4) / 10 : NaN
}

/** CPU time (user + system) a process has used so far, ms (10 ms resolution). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/**
 * CPU the broker-side process spends on the changeover: from 1 s before start_time until every
 * dispenser holds `active`, and from 1 s before the end until every one holds `idle`. Less noisy
 * than latency on a shared machine: it does not grow when other processes take the cores.
 */
async function phaseCpu(dispensers: Dispensers, pid: number, n: number, startS: number, endS: number) {
  const until = async (status: string, atS: number) => {
    await sleep(Math.max(0, atS * 1000 - 1000 - Date.now()))
    const c0 = cpuMs(pid)
    for (const end = atS * 1000 + 20_000; Date.now() < end; await sleep(100)) {
      if (Date.now() > atS * 1000 && (await dispensers.count(status, atS * 1000 - 500)) >= n) break
    }
    return cpuMs(pid) - c0
  }
  const on = await until('active', startS)
  const off = await until('idle', endS)
  return { cpuOnMs: on, cpuOffMs: off }
}

/** The dispenser process: one request, one reply, over IPC. */
function dispenserProcess() {
  const child = fork(join(here, 'lib', 'dispensers.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const ask = <T>(msg: object, want: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const on = (m: { type: string; message?: string }) => {
        if (m.type !== want && m.type !== 'error') return
        child.off('message', on)
        if (m.type === 'error') reject(new Error(`dispensers: ${m.message}`))
        else resolve(m as T)
      }
      child.on('message', on)
      child.send(msg)
    })
  return {
    connect: (url: string, n: number) => ask<{ ms: number }>({ type: 'connect', url, ids: ids(n), password: SECRET }, 'connected'),
    results: () => ask<DispenserResults>({ type: 'results' }, 'results'),
    count: (status: string, sinceMs: number) => ask<{ got: number }>({ type: 'count', status, sinceMs }, 'count').then((r) => r.got),
    disconnect: () => ask({ type: 'disconnect' }, 'disconnected'),
    exit: () => {
      child.send({ type: 'exit' })
      return new Promise((r) => child.once('exit', r))
    },
  }
}
type Dispensers = ReturnType<typeof dispenserProcess>

const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

/** Latencies from the dispensers' own receive times; counts what arrived. */
function measure(r: DispenserResults, startS: number, endS: number, sessionOf: (id: number) => number) {
  const on: number[] = []
  const off: number[] = []
  let extra = 0
  if (process.env.BENCH_DEBUG) console.log(JSON.stringify({ startS, endS, bay1: r.received[0], last: r.received.at(-1) }))
  for (const { id, controls } of r.received) {
    const during = controls.filter((c) => c.at >= startS * 1000 - 500)
    const active = during.find((c) => c.status === 'active' && c.session_id === sessionOf(id) && c.scheduled_until !== null && Math.abs(c.scheduled_until - endS) < 0.001)
    const idle = during.find((c) => c.status === 'idle' && c.at >= endS * 1000 - 500)
    if (active) on.push(active.at - startS * 1000)
    if (idle) off.push(idle.at - endS * 1000)
    extra += Math.max(0, during.length - 2)
  }
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b)
  const round = (x: number) => Math.round(x)
  return { onP50: round(percentile(sorted(on), 50)), onP99: round(percentile(sorted(on), 99)), offP50: round(percentile(sorted(off), 50)), offP99: round(percentile(sorted(off), 99)), gotOn: on.length, gotOff: off.length, extra, dropped: r.closed }
}

/** Waits until every dispenser got its `idle` after `endS` (or 15 s passed). */
async function collect(dispensers: Dispensers, n: number, endS: number): Promise<DispenserResults> {
  await sleep(Math.max(0, endS * 1000 - Date.now()) + 1000)
  const deadline = Date.now() + 15_000
  for (;;) {
    const r = await dispensers.results()
    const done = r.received.filter((d) => d.controls.some((c) => c.status === 'idle' && c.at >= endS * 1000 - 500)).length
    if (done >= n || Date.now() > deadline) return r
    await sleep(500)
  }
}

async function floorRun(n: number, dispensers: Dispensers): Promise<RunResult> {
  const port = await freePort()
  const t0 = nowMs()
  const child = spawn(process.execPath, [join(here, 'lib', 'floor-broker.mjs'), String(port)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve())
      child.once('exit', (code) => reject(new Error(`floor broker exited with ${code}`)))
    })
    const readyMs = nowMs() - t0
    await sleep(1000)
    const rssIdleMb = rssMb(child.pid!)
    const { ms: connectMs } = await dispensers.connect(`mqtt://127.0.0.1:${port}`, n)
    await sleep(2000)
    const startS = Math.ceil(Date.now() / 1000) + 3
    const endS = startS + FLOOR_SESSION_S
    const sessionBase = 1_000_000
    await ask(child, { type: 'schedule', ids: ids(n), startS, endS, sessionBase }, 'scheduled')
    await sleep(startS * 1000 - Date.now() - 1000)
    const rssConnectedMb = rssMb(child.pid!)
    const cpu = await phaseCpu(dispensers, child.pid!, n, startS, endS)
    const r = await collect(dispensers, n, endS)
    const { confirmed } = await ask<{ confirmed: { active: number; idle: number } }>(child, { type: 'results' }, 'results')
    await dispensers.disconnect()
    return { ...measure(r, startS, endS, (id) => sessionBase + id), ...cpu, rssConnectedMb, rssIdleMb, readyMs: Math.round(readyMs), connectMs: Math.round(connectMs), confirmedOn: confirmed.active, confirmedOff: confirmed.idle }
  } finally {
    child.kill('SIGKILL')
  }
}

function ask<T = unknown>(child: ChildProcess, msg: object, want: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type !== want) return
      child.off('message', on)
      resolve(m as T)
    }
    child.on('message', on)
    child.send(msg)
  })
}

async function api(port: number, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...init.headers } })
}

async function confirmedTotal(port: number): Promise<number> {
  const text = await (await api(port, '/metrics')).text()
  const line = text.split('\n').find((l) => l.startsWith('dispenser_commands_confirmed_total'))
  return line ? Number(line.trim().split(/\s+/).at(-1)) : NaN
}

/** One credential per bay, in the file the hub reads (as `dispenser-hub-cli machine add` writes it). */
async function credentialsFile(n: number): Promise<string> {
  const file = emptyCredentials()
  const hash = LEGACY_SCRYPT ? await legacyScryptEntry(SECRET) : await hashSecret(SECRET)
  for (const id of ids(n)) file.machines[String(id)] = hash
  return JSON.stringify(file)
}

/** An entry as the CLI wrote it before issue 17 (scrypt N=2^12, r=8, p=1; still verified by the hub). */
async function legacyScryptEntry(secret: string) {
  const salt = Buffer.from('bench-salt-0123456789')
  const hash = await new Promise<Buffer>((resolve, reject) => scrypt(secret, salt, 32, { N: 4096, r: 8, p: 1 }, (e, key) => (e ? reject(e) : resolve(key))))
  return { hash: hash.toString('base64'), salt: salt.toString('base64'), N: 4096, r: 8, p: 1, created_at: new Date().toISOString() }
}

async function hubRun(n: number, dispensers: Dispensers, credentials: string, prof: string | null, main: string, nodeOptions?: string, extraEnv: Record<string, string> = {}): Promise<RunResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-changeover-'))
  mkdirSync(dataDir, { recursive: true })
  const file = emptyCredentials()
  Object.assign(file, JSON.parse(credentials))
  writeCredentials(credentialsPath(dataDir), file)
  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  const out = openSync(join(dataDir, 'hub.log'), 'w')
  const env = {
    ...process.env,
    ...HUB_ENV,
    HUB_DATA_DIR: dataDir,
    HUB_MACHINES: `1-${n}`,
    HUB_MQTT_PORT: String(mqttPort),
    HUB_HTTP_PORT: String(httpPort),
    HUB_ADMIN_TOKEN: ADMIN_TOKEN,
    HUB_TIMEZONE: 'UTC',
    HUB_HTTP_BOOKINGS_PER_MINUTE: '100000',
    ...(nodeOptions !== undefined && { NODE_OPTIONS: nodeOptions }),
    ...extraEnv,
  }
  const flags = [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...(process.env.BENCH_HUB_FLAGS ?? '').split(/\s+/).filter(Boolean)]
  const t0 = nowMs()
  const child = spawn(process.execPath, [...flags, main], { cwd: repoRoot, env, stdio: ['ignore', out, 'inherit'] })
  const exited = new Promise((r) => child.once('exit', r))
  let failed = true
  try {
    let readyMs = NaN
    for (const end = Date.now() + 30_000; Date.now() < end; await sleep(5)) {
      const ok = await fetch(`http://127.0.0.1:${httpPort}/api/health`).then((r) => r.status === 200, () => false)
      if (ok) {
        readyMs = nowMs() - t0
        break
      }
      if (child.exitCode !== null) throw new Error(`hub exited with ${child.exitCode}; see ${join(dataDir, 'hub.log')}`)
    }
    if (Number.isNaN(readyMs)) throw new Error('hub not healthy within 30 s')
    await sleep(1000)
    const rssIdleMb = rssMb(child.pid!)
    const { ms: connectMs } = await dispensers.connect(`mqtt://127.0.0.1:${mqttPort}`, n)
    // Every bay online and its connect-time control confirmed before anything is booked.
    for (const end = Date.now() + 30_000; ; await sleep(250)) {
      const machines = (await (await api(httpPort, '/api/machines')).json()) as Array<{ online: boolean; status: string }>
      if (machines.filter((m) => m.online && m.status === 'idle').length === n) break
      if (Date.now() > end) {
        const by = new Map<string, number>()
        for (const m of machines) by.set(m.status, (by.get(m.status) ?? 0) + 1)
        throw new Error(`not every bay online and idle after 30 s: ${[...by].map(([k, v]) => `${k} ${v}`).join(', ')}`)
      }
    }
    await sleep(1000)
    const bookAll = async (count: number, startS: number, record: boolean) => {
      let next = 1
      const book = async () => {
        for (let id = next++; id <= count; id = next++) {
          const res = await api(httpPort, '/api/sessions', { method: 'POST', body: JSON.stringify({ machine_id: id, status: 'reserved', start_time: startS, duration: SESSION_S }) })
          const body = (await res.json()) as { session_id?: number; message?: string }
          if (res.status !== 201 || body.session_id === undefined) throw new Error(`booking bay ${id}: ${res.status} ${body.message ?? ''}`)
          if (record) sessionOf.set(id, body.session_id)
        }
      }
      await Promise.all(Array.from({ length: 8 }, book))
    }
    // How fast this machine books right now (a day ahead, out of the way), so the sessions can
    // start soon after the last one is booked.
    const probe = Math.min(n, 40)
    const p0 = Date.now()
    await bookAll(probe, Math.ceil(Date.now() / 1000) + 86_400, false)
    const leadS = 2 + Math.ceil((1.5 * (Date.now() - p0) * n) / probe / 1000)
    const startS = Math.ceil(Date.now() / 1000) + leadS
    const endS = startS + SESSION_S
    const sessionOf = new Map<number, number>()
    await bookAll(n, startS, true)
    if (Date.now() > startS * 1000 - 1500) throw new Error('booking took too long: the sessions would start before the bench is ready')
    const before = await confirmedTotal(httpPort)
    await sleep(startS * 1000 - Date.now() - 1000)
    const rssConnectedMb = rssMb(child.pid!)
    const cpu = await phaseCpu(dispensers, child.pid!, n, startS, endS)
    const r = await collect(dispensers, n, endS)
    await sleep(500) // the last Confirmations reach the hub
    const confirmed = (await confirmedTotal(httpPort)) - before
    const m = measure(r, startS, endS, (id) => sessionOf.get(id) ?? -1)
    await dispensers.disconnect()
    failed = false
    // The hub counts Confirmations, not which: split on / off by what the dispensers got.
    return { ...m, ...cpu, rssConnectedMb, rssIdleMb, readyMs: Math.round(readyMs), connectMs: Math.round(connectMs), confirmedOn: Math.min(confirmed, m.gotOn), confirmedOff: Math.max(0, confirmed - m.gotOn) }
  } finally {
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(killer)
    closeSync(out)
    if (failed) console.log(`hub data dir and log kept: ${dataDir}`)
    else if (process.env.BENCH_KEEP_LOG) console.log(`hub log kept: ${join(dataDir, 'hub.log')}`)
    else rmSync(dataDir, { recursive: true, force: true })
  }
}

function print(n: number, hub: RunResult, floor: RunResult, before: RunResult | null): boolean {
  const rows: Array<[string, number, number, 'ratio' | 'diff' | '']> = [
    ['start_time -> dispenser holds active, p50 (ms)', hub.onP50, floor.onP50, 'ratio'],
    ['start_time -> dispenser holds active, p99 (ms)', hub.onP99, floor.onP99, 'ratio'],
    ['end -> dispenser holds idle, p50 (ms)', hub.offP50, floor.offP50, 'ratio'],
    ['end -> dispenser holds idle, p99 (ms)', hub.offP99, floor.offP99, 'ratio'],
    ['CPU used, 1 s before start_time -> all active (ms)', hub.cpuOnMs, floor.cpuOnMs, 'ratio'],
    ['CPU used, 1 s before end -> all idle (ms)', hub.cpuOffMs, floor.cpuOffMs, 'ratio'],
    [`RSS with ${n} connected (MB)`, hub.rssConnectedMb, floor.rssConnectedMb, 'diff'],
    ['RSS idle, nothing connected (MB)', hub.rssIdleMb, floor.rssIdleMb, 'diff'],
    ['spawn -> ready (ms; hub: /api/health 200)', hub.readyMs, floor.readyMs, ''],
    [`${n} dispensers connect, first time (ms)`, hub.connectMs, floor.connectMs, 'ratio'],
  ]
  console.log(`\nchangeover, ${n} bays (one session per bay, all starting in the same second)`)
  const compare = (a: number, b: number, kind: 'ratio' | 'diff' | '') =>
    kind === 'ratio' ? `${(a / b).toFixed(2)}x` : kind === 'diff' ? `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(1)}` : ''
  const beforeHead = before ? `${'before'.padStart(10)}${'before/floor'.padStart(14)}` : ''
  console.log(`${'figure'.padEnd(50)}${'hub'.padStart(10)}${'floor'.padStart(10)}${'hub/floor'.padStart(12)}${beforeHead}`)
  rows.forEach(([label, a, b, kind], i) => {
    const old = before ? [before.onP50, before.onP99, before.offP50, before.offP99, before.cpuOnMs, before.cpuOffMs, before.rssConnectedMb, before.rssIdleMb, before.readyMs, before.connectMs][i]! : null
    const beforeCols = old !== null ? `${String(old).padStart(10)}${compare(old, b, kind).padStart(14)}` : ''
    console.log(`${label.padEnd(50)}${String(a).padStart(10)}${String(b).padStart(10)}${compare(a, b, kind).padStart(12)}${beforeCols}`)
  })
  let ok = true
  const runs: Array<readonly [string, RunResult]> = [['hub', hub], ['floor', floor]]
  if (before) runs.push(['before', before])
  for (const [name, r] of runs) {
    const line = `${name}: active received ${r.gotOn}/${n}, idle received ${r.gotOff}/${n}, Confirmations counted by the broker side ${r.confirmedOn + r.confirmedOff}/${2 * n}, extra controls (retries) ${r.extra}, connections lost ${r.dropped}`
    const complete = r.gotOn === n && r.gotOff === n && r.confirmedOn + r.confirmedOff >= 2 * n && r.dropped === 0
    if (!complete) ok = false
    console.log(`${complete ? '  ' : 'FAIL '}${line}`)
  }
  return ok
}

async function main() {
  const args = process.argv.slice(2)
  const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number)
  const prof = args.includes('--prof') ? mkdtempSync(join(tmpdir(), 'bench-changeover-prof-')) : null
  if (sizes.length === 0) sizes.push(100, 1000)
  // BENCH_HUB_MAIN: another build of the hub (e.g. the main branch's) measured in its place.
  // BENCH_HUB_BEFORE: another build measured as well, in the same invocation against the same
  // floor and dispensers, printed as a `before` column (a change's effect on a noisy machine).
  const main = process.env.BENCH_HUB_MAIN ?? join(repoRoot, 'dist', 'main.js')
  const beforeMain = process.env.BENCH_HUB_BEFORE ?? null
  const beforeOptions = process.env.BENCH_BEFORE_NODE_OPTIONS
  const beforeEnv = Object.fromEntries([...(process.env.BENCH_BEFORE_ENV ?? '').matchAll(/([A-Z_][A-Z0-9_]*)=(\S*)/g)].map((m) => [m[1]!, m[2]!]))
  console.log(`changeover benchmark, bays ${sizes.join(', ')}; node ${process.version}; hub ${main}${beforeMain ? ` (before: ${beforeMain}${beforeOptions !== undefined ? ` with NODE_OPTIONS=${beforeOptions}` : ''}${Object.keys(beforeEnv).length > 0 ? ` and ${describeEnv(beforeEnv)}` : ''})` : ''} vs bare Aedes ${readAedesVersion()}`)
  console.log(`hub env: ${describeEnv(HUB_ENV)}${process.env.BENCH_UNIT_ENV === '0' ? ' (BENCH_UNIT_ENV=0)' : ' (the systemd unit\'s; BENCH_UNIT_ENV=0 runs without)'}; floor: no env added; bay secrets stored as ${LEGACY_SCRYPT ? 'scrypt N=2^12 r=8 (BENCH_SECRET_HASH=scrypt)' : 'HMAC-SHA-256 (as the CLI writes them)'}`)
  const credentials = await credentialsFile(Math.max(...sizes))
  const dispensers = dispenserProcess()
  let ok = true
  try {
    for (const n of sizes) {
      const floor = await floorRun(n, dispensers)
      const before = beforeMain ? await hubRun(n, dispensers, credentials, prof, beforeMain, process.env.BENCH_BEFORE_NODE_OPTIONS, beforeEnv) : null
      const hub = await hubRun(n, dispensers, credentials, prof, main)
      ok = print(n, hub, floor, before) && ok
    }
  } finally {
    await dispensers.exit()
  }
  if (prof) console.log(`\nCPU profiles of the hub runs: ${prof}`)
  if (!ok) {
    console.log('\nFAIL: a dispenser missed a control or a Confirmation went uncounted')
    process.exitCode = 1
  }
}

function readAedesVersion(): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'aedes', 'package.json'), 'utf8')) as { version: string }).version
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
