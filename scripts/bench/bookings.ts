/**
 * Booking throughput with durable confirmation (issue 17), black-box:
 *
 *   npm run bench -- bookings [ops=2000] [rounds=1] [bays=80]
 *
 * The hub runs as its own process (`node dist/main.js`, temp data dir, one kiosk API token and one
 * kiosk node login per client); clients book over REST with keep-alive, and over MQTT (Session on
 * internal/manager, Confirmation on the node's own topic), each waiting for its answer (a 201/200
 * or Confirmation is sent only after the synced LevelDB batch holding the session and its audit
 * entry). The reference, in
 * the same invocation: a PostgreSQL server the bench starts itself (temp dir, fsync and
 * synchronous_commit on), a sessions table with an exclusion constraint (btree_gist: bay WITH =,
 * tstzrange WITH &&) and an audit row written in the same statement. Both sides run the same
 * operation mix (mix.ts) with 1 and with 8 clients. Without a PostgreSQL server binary the
 * reference is skipped (said so) and the hub is still measured.
 *
 * Also on the same hub process: the HTTP floor (GET /api/me with the same tokens and keep-alive:
 * token check, routing, a small JSON reply, no write), so a booking's own cost shows as the gap
 * to it; and the hub's CPU time per operation (/proc/<pid>/stat), which the machine's neighbours
 * disturb far less than the rate. And the storage floor (lib/level-floor.ts): the same mix on an
 * in-memory check and synced LevelDB batches alone, grouped as the hub's writer groups them: the
 * most any door of the hub could reach on this disk. BENCH_CLIENTS=8 and
 * BENCH_SIDES=rest,mqtt,floor,pg,level narrow a run; BENCH_CPU_PROF=<dir> profiles the hub.
 * The hub runs with the node flags of package.json's start script (as `npm start` runs it);
 * BENCH_HUB_NODE_ARGS adds flags, BENCH_HUB_STDOUT=<file> keeps its output after "hub ready".
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Socket } from 'node:net'
import mqtt, { type MqttClient } from 'mqtt'
import { apiTokenEntry, credentialsPath, hashSecret, newApiToken, readCredentials, writeCredentials } from '../../src/broker/credentials.js'
import { percentile } from './lib/stats.js'
import { runMix, type Backend, type MixResult } from './lib/booking-mix.js'
import { findPostgresBin, startPostgres } from './lib/postgres.js'
import { levelFloorBackend } from './lib/level-floor.js'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const [opsArg, roundsArg, baysArg] = process.argv.slice(2)
const OPS = Number(opsArg ?? 2000)
const ROUNDS = Number(roundsArg ?? 1)
const BAYS = Number(baysArg ?? 80)
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,8').split(',').map(Number)
// Operations per side before the counted runs (BENCH_WARMUP).
const WARMUP = Number(process.env.BENCH_WARMUP ?? 400)
const SIDES = new Set((process.env.BENCH_SIDES ?? 'rest,mqtt,floor,pg,level').split(','))

interface HubUnderTest {
  port: number
  mqttPort: number
  tokens: string[]
  /** node name and secret per client (role kiosk) */
  nodes: Array<{ name: string; secret: string }>
  /** the session writer's batches and steps so far (/metrics) */
  writes(): Promise<{ batches: number; steps: number }>
  /** CPU time (user + system, ms) the hub process has used so far; undefined where /proc is missing */
  cpuMs(): number | undefined
  stop(): Promise<void>
}

/** utime + stime of a process from /proc/<pid>/stat, in ms (clock ticks of 10 ms on Linux). */
function processCpuMs(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces: the fields after it start behind the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return undefined
  }
}

/** dispenser_session_write_{batches,steps}_total from the hub's /metrics. */
function writerCounters(port: number, token: string): Promise<{ batches: number; steps: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (text += c))
      res.on('end', () => {
        const read = (name: string) => Number(/^(\S+) (\S+)$/m.exec(text.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2] ?? NaN)
        resolve({ batches: read('dispenser_session_write_batches_total'), steps: read('dispenser_session_write_steps_total') })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** The node flags of package.json's start script (`node <flags> dist/main.js`). */
function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts?: { start?: string } }
  const words = (pkg.scripts?.start ?? '').trim().split(/\s+/)
  if (words[0] !== 'node') return []
  const flags: string[] = []
  for (const word of words.slice(1)) {
    if (!word.startsWith('-')) break
    flags.push(word)
  }
  return flags
}

/** `node dist/main.js` on a temp data dir, one kiosk token per client; resolves on "hub ready". */
async function startHub(clients: number, main: string): Promise<HubUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-bookings-'))
  const file = readCredentials(credentialsPath(dataDir))
  const tokens: string[] = []
  const nodes: HubUnderTest['nodes'] = []
  for (let i = 1; i <= clients; i++) {
    const name = `kiosk${i}`
    const token = newApiToken(name)
    file.tokens[name] = apiTokenEntry(token, 'kiosk')
    tokens.push(token)
    const node = { name: `kiosk_node_${i}`, secret: `bench-secret-${i}` }
    file.nodes[node.name] = { ...(await hashSecret(node.secret)), role: 'kiosk' }
    nodes.push(node)
  }
  // A monitor token: the writer's counters from /metrics around each run (steps per synced batch).
  const monitorToken = newApiToken('monitor1')
  file.tokens.monitor1 = apiTokenEntry(monitorToken, 'monitor')
  writeCredentials(credentialsPath(dataDir), file)
  // BENCH_CPU_PROF=<dir>: the hub writes a V8 CPU profile there when it stops (where the time goes).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []
  // The node flags `npm start` runs the hub with (package.json), so the bench measures the hub as it
  // runs in production (its young-generation size sets how often it collects); BENCH_HUB_NODE_ARGS adds more.
  const nodeArgs = [...startFlags(), ...(process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean)]
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...profile, main], {
    cwd: repoRoot,
    env: {
      ...process.env,
      HUB_DATA_DIR: dataDir,
      HUB_MACHINES: `1-${BAYS}`,
      HUB_MQTT_PORT: '0',
      HUB_HTTP_PORT: '0',
      HUB_TIMEZONE: 'UTC',
      // The production default: what the hub logs per request is part of its cost.
      HUB_LOG_LEVEL: 'info',
      // No dispensers connect in this bench: their bays stay sellable for the whole run.
      HUB_OFFLINE_GRACE_SECONDS: '3600',
      // The per-token booking budget is a guard against a runaway kiosk, not what is measured here.
      HUB_HTTP_BOOKINGS_PER_MINUTE: '100000',
      HUB_MQTT_RATE: '100000',
      HUB_MQTT_BURST: '100000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const kill = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')
  process.once('exit', kill)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)))
  if (process.env.BENCH_HUB_STDERR) child.stderr!.pipe(process.stderr)
  const ports = await new Promise<{ httpPort: number; mqttPort: number }>((resolve, reject) => {
    let buffer = ''
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString()
      const line = buffer.split('\n').find((l) => l.includes('"hub ready"'))
      if (!line) return
      // Read no further log lines: the bench process must not spend its CPU parsing them.
      child.stdout!.off('data', onData)
      // BENCH_HUB_STDOUT=<file>: the rest of the hub's output there (e.g. with --trace-deopt).
      if (process.env.BENCH_HUB_STDOUT) child.stdout!.pipe(createWriteStream(process.env.BENCH_HUB_STDOUT))
      else child.stdout!.resume()
      resolve(JSON.parse(line) as { httpPort: number; mqttPort: number })
    }
    child.stdout!.on('data', onData)
    void exited.then(() => reject(new Error(`hub exited before it was ready\n${stderr}`)))
  })
  return {
    port: Number(ports.httpPort),
    mqttPort: Number(ports.mqttPort),
    cpuMs: () => processCpuMs(child.pid),
    writes: () => writerCounters(Number(ports.httpPort), monitorToken),
    tokens,
    nodes,
    async stop() {
      process.off('exit', kill)
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
      kill()
      await exited
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** One keep-alive connection per client; the answer's status and JSON body. */
function restClient(hub: HubUnderTest, clients: number) {
  const agents = Array.from({ length: clients }, () => new Agent({ keepAlive: true, maxSockets: 1 }))
  const call = (client: number, method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; body: { session_id?: number; error?: string } }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body)
      const req = request(
        {
          host: '127.0.0.1',
          port: hub.port,
          method,
          path,
          agent: agents[client],
          headers: {
            authorization: `Bearer ${hub.tokens[client]}`,
            ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') }))
        },
      )
      req.on('error', reject)
      req.end(payload)
    })
  return { call, close: () => agents.forEach((a) => a.destroy()) }
}

function restBackend(hub: HubUnderTest, clients: number): Backend & { close(): void } {
  const { call, close } = restClient(hub, clients)
  const expect = (r: { status: number; body: { session_id?: number; error?: string } }, ok: number[], what: string) => {
    if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`)
    return r
  }
  return {
    async create(c, s) {
      const r = await call(c, 'POST', '/api/sessions', { machine_id: s.bay, status: 'reserved', start_time: s.start, duration: s.duration })
      if (r.status === 409 && r.body.error === 'SESSION_CONFLICT') return undefined
      return expect(r, [201], 'create').body.session_id!
    },
    async update(c, id, slot) {
      expect(await call(c, 'PATCH', `/api/sessions/${id}`, { duration: slot.duration }), [200], 'update')
    },
    async cancel(c, id) {
      expect(await call(c, 'DELETE', `/api/sessions/${id}`), [200], 'cancel')
    },
    close,
  }
}

/**
 * The HTTP floor on the same hub process: each client, in a loop waiting for every answer, asks
 * GET /api/me (the token check, routing and a small JSON reply; no booking, no write). What a
 * booking costs above this is the booking's own.
 */
async function runFloor(hub: HubUnderTest, clients: number, ops: number): Promise<MixResult & { latencies: number[] }> {
  const { call, close } = restClient(hub, clients)
  const latencies: number[] = []
  const perClient = Math.ceil(ops / clients)
  const started = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient; i++) {
        const t0 = performance.now()
        const r = await call(c, 'GET', '/api/me')
        if (r.status !== 200) throw new Error(`GET /api/me: HTTP ${r.status} ${JSON.stringify(r.body)}`)
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const elapsedS = (performance.now() - started) / 1000
  close()
  const n = perClient * clients
  return { ops: n, perSecond: Math.round(n / elapsedS), p50Ms: NaN, p99Ms: NaN, created: 0, refused: 0, updated: 0, cancelled: 0, latencies }
}

/**
 * One MQTT connection per client, a kiosk node each: Session on internal/manager (QoS 1), the
 * answer is the next Confirmation on the node's own topic (one request in flight per client; the
 * session change the admin feed also sends there carries `change`, not `success`).
 */
async function mqttBackend(hub: HubUnderTest, clients: number): Promise<Backend & { close(): Promise<void> }> {
  const conns = await Promise.all(
    hub.nodes.slice(0, clients).map(async (node) => {
      const client: MqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { username: node.name, password: node.secret, clientId: `${node.name}-${process.pid}`, reconnectPeriod: 0 })
      // What a kiosk app should do too: with Nagle on, a PUBLISH after a PUBACK waits for the delayed ACK.
      ;(client.stream as Partial<Socket>).setNoDelay?.(true)
      const topic = `internal/${node.name}`
      await client.subscribeAsync(topic, { qos: 1 })
      let waiting: ((m: { success: boolean; session_id?: number; message?: string }) => void) | undefined
      client.on('message', (_t, payload) => {
        const m = JSON.parse(payload.toString()) as { success?: boolean; session_id?: number; message?: string }
        if (typeof m.success !== 'boolean' || !waiting) return
        const done = waiting
        waiting = undefined
        done(m as { success: boolean })
      })
      const send = async (body: object) => {
        const answer = new Promise<{ success: boolean; session_id?: number; message?: string }>((resolve) => (waiting = resolve))
        await client.publishAsync('internal/manager', JSON.stringify({ ...body, origin_node: node.name, destination_node: 'schedule_manager' }), { qos: 1 })
        return answer
      }
      return { client, send }
    }),
  )
  return {
    async create(c, s) {
      const r = await conns[c]!.send({ machine_id: s.bay, status: 'reserved', start_time: s.start, duration: s.duration })
      if (!r.success) {
        if (/is taken by session/.test(r.message ?? '')) return undefined
        throw new Error(`create: ${r.message}`)
      }
      return r.session_id!
    },
    async update(c, id, slot) {
      // The same session_id with other content is an update (DESIGN §4).
      const r = await conns[c]!.send({ session_id: id, machine_id: slot.bay, status: 'reserved', start_time: slot.start, duration: slot.duration })
      if (!r.success) throw new Error(`update: ${r.message}`)
    },
    async cancel(c, id, slot) {
      const r = await conns[c]!.send({ session_id: id, machine_id: slot.bay, status: 'cancelled' })
      if (!r.success) throw new Error(`cancel: ${r.message}`)
    },
    close: async () => {
      await Promise.all(conns.map((c) => c.client.endAsync()))
    },
  }
}

/** The reference: the same operations as single statements (session + audit row, one commit each). */
async function postgresBackend(port: number, user: string, clients: number): Promise<Backend & { close(): Promise<void> }> {
  const { default: pg } = await import('pg')
  const conns = await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new pg.Client({ host: '127.0.0.1', port, user, database: 'postgres' })
      await c.connect()
      return c
    }),
  )
  const q = async (c: number, name: string, text: string, values: unknown[]) => (await conns[c]!.query({ name, text, values })).rows as Array<{ id: string }>
  return {
    async create(c, s) {
      try {
        const rows = await q(
          c,
          'create',
          `WITH s AS (INSERT INTO sessions (bay, during, status, origin) VALUES ($1, tstzrange(to_timestamp($2), to_timestamp($2 + $3)), 'reserved', $4) RETURNING *)
           INSERT INTO audit (kind, actor, session_id, after) SELECT 'session.created', $4, s.id, to_jsonb(s) FROM s RETURNING session_id AS id`,
          [s.bay, s.start, s.duration, `kiosk${c + 1}`],
        )
        return Number(rows[0]!.id)
      } catch (error) {
        if ((error as { code?: string }).code === '23P01') return undefined // exclusion_violation: the bay is taken
        throw error
      }
    },
    async update(c, id, { duration }) {
      const rows = await q(
        c,
        'update',
        `WITH s AS (UPDATE sessions SET during = tstzrange(lower(during), lower(during) + make_interval(secs => $2)), updated_at = now()
                    WHERE id = $1 AND status <> 'cancelled' RETURNING *)
         INSERT INTO audit (kind, actor, session_id, after) SELECT 'session.updated', $3, s.id, to_jsonb(s) FROM s RETURNING session_id AS id`,
        [id, duration, `kiosk${c + 1}`],
      )
      if (rows.length !== 1) throw new Error(`update of ${id} changed nothing`)
    },
    async cancel(c, id) {
      const rows = await q(
        c,
        'cancel',
        `WITH s AS (UPDATE sessions SET status = 'cancelled', updated_at = now() WHERE id = $1 AND status <> 'cancelled' RETURNING *)
         INSERT INTO audit (kind, actor, session_id, after) SELECT 'session.cancelled', $2, s.id, to_jsonb(s) FROM s RETURNING session_id AS id`,
        [id, `kiosk${c + 1}`],
      )
      if (rows.length !== 1) throw new Error(`cancel of ${id} changed nothing`)
    },
    close: async () => {
      await Promise.all(conns.map((c) => c.end()))
    },
  }
}

const SCHEMA = `
  CREATE EXTENSION IF NOT EXISTS btree_gist;
  CREATE TABLE sessions (
    id bigserial PRIMARY KEY,
    bay integer NOT NULL,
    during tstzrange NOT NULL,
    status text NOT NULL,
    origin text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    EXCLUDE USING gist (bay WITH =, during WITH &&) WHERE (status <> 'cancelled')
  );
  CREATE TABLE audit (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL,
    actor text NOT NULL,
    session_id bigint NOT NULL,
    after jsonb NOT NULL
  );`

interface Row {
  side: string
  clients: number
  result: MixResult
  hubCpuUsPerOp?: number
  stepsPerBatch?: number
}

function summarise(side: string, clients: number, latencies: number[], result: Omit<MixResult, 'p50Ms' | 'p99Ms'>): Row {
  const sorted = [...latencies].sort((a, b) => a - b)
  const r = (n: number) => Math.round(n * 10) / 10
  return { side, clients, result: { ...result, p50Ms: r(percentile(sorted, 50)), p99Ms: r(percentile(sorted, 99)) } }
}

async function main() {
  const hubCommand = ['node', ...startFlags(), process.env.BENCH_HUB_NODE_ARGS ?? '', process.env.BENCH_HUB_MAIN ?? 'dist/main.js'].filter(Boolean).join(' ')
  console.log(`bookings benchmark: ${OPS} operations per run, ${ROUNDS} round(s), ${BAYS} bays; node ${process.version}; hub: ${hubCommand} (npm start's flags)`)
  const bin = findPostgresBin()
  if (!bin) console.log('no PostgreSQL server binary (postgres + initdb in /usr/local/bin or /usr/lib/postgresql/*/bin): skipping the reference, measuring the hub only')
  // BENCH_HUB_MAIN=<path of a main.js>: measure another build the same way.
  const hub = await startHub(Math.max(...CLIENTS), process.env.BENCH_HUB_MAIN ?? join(repoRoot, 'dist', 'main.js'))
  // BENCH_HUB_BEFORE=<path of a main.js>: that build as well, as "before" sides in the same invocation.
  const before = process.env.BENCH_HUB_BEFORE ? await startHub(Math.max(...CLIENTS), process.env.BENCH_HUB_BEFORE) : undefined
  if (before) console.log(`before: node ${startFlags().join(' ')} ${process.env.BENCH_HUB_BEFORE}`)
  const pgServer = bin ? await startPostgres(bin) : undefined
  const rows: Row[] = []
  try {
    if (pgServer) {
      const { default: pg } = await import('pg')
      const admin = new pg.Client({ host: '127.0.0.1', port: pgServer.port, user: pgServer.user, database: 'postgres' })
      await admin.connect()
      await admin.query(SCHEMA)
      await admin.end()
      console.log(`reference: ${pgServer.version}, fsync on, synchronous_commit on, exclusion constraint (btree_gist)`)
    }
    // Each run on a store books its own stretch of days after the previous run's, so runs never see
    // each other's sessions: a fresh cell (an hour of a bay) per create, so an operation uses at
    // most one cell; bookings may reach at most 400 days ahead.
    const next = new Map<string, number>()
    const base = (store: string, ops: number) => {
      const from = next.get(store) ?? Math.ceil(Date.now() / 3_600_000) * 3600 + 86_400
      next.set(store, from + 86_400 * (Math.ceil(ops / (BAYS * 24)) + 1))
      return from
    }
    type Run = (clients: number, ops: number, seed: number) => Promise<MixResult & { latencies: number[] }>
    const mixOn = (store: string, open: (clients: number) => Promise<Backend & { close(): unknown }>): Run => async (clients, ops, seed) => {
      const backend = await open(clients)
      try {
        return await runMix(backend, { ops, clients, bays: BAYS, base: base(store, ops), seed })
      } finally {
        await backend.close()
      }
    }
    const sides: Array<[string, Run]> = []
    if (SIDES.has('rest')) sides.push(['hub REST', mixOn('hub', async (n) => restBackend(hub, n))])
    if (SIDES.has('mqtt')) sides.push(['hub MQTT', mixOn('hub', (n) => mqttBackend(hub, n))])
    if (before && SIDES.has('rest')) sides.push(['before REST', mixOn('before', async (n) => restBackend(before, n))])
    if (before && SIDES.has('mqtt')) sides.push(['before MQTT', mixOn('before', (n) => mqttBackend(before, n))])
    if (SIDES.has('floor')) sides.push(['hub floor', (clients, ops) => runFloor(hub, clients, ops)])
    if (pgServer && SIDES.has('pg')) sides.push(['PostgreSQL', mixOn('pg', (n) => postgresBackend(pgServer.port, pgServer.user, n))])
    // The storage floor: the same mix on an in-memory check and synced LevelDB batches alone (lib/level-floor.ts).
    if (SIDES.has('level')) sides.push(['LevelDB floor', mixOn('level', () => levelFloorBackend())])
    // PostgreSQL writes its dirty pages in the background after a run (bgwriter, checkpoints),
    // which would slow the next side's syncs on the same disk: flush them before moving on.
    const settle = async () => {
      if (!pgServer) return
      const { default: pg } = await import('pg')
      const admin = new pg.Client({ host: '127.0.0.1', port: pgServer.port, user: pgServer.user, database: 'postgres' })
      await admin.connect()
      await admin.query('CHECKPOINT')
      await admin.end()
    }
    // Warm-up (JIT, connections, caches), not counted; as many clients as the hub has tokens for.
    for (const [, run] of sides) {
      await run(Math.max(...CLIENTS), WARMUP, 99)
      await settle()
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const clients of CLIENTS) {
        // Alternate the sides, so load from the machine's neighbours hits both alike.
        for (const [side, run] of sides) {
          const which = side.startsWith('before ') ? before! : hub
          const onHub = side.endsWith(' REST') || side.endsWith(' MQTT')
          const writesBefore = onHub ? await which.writes() : undefined
          const cpuBefore = which.cpuMs()
          const { latencies, ...result } = await run(clients, OPS, 1 + round)
          const cpuAfter = which.cpuMs()
          const writesAfter = onHub ? await which.writes() : undefined
          await settle()
          const row = summarise(side, clients, latencies, result)
          // What the hub process spent per operation (its own CPU, whatever the neighbours do).
          if ((side.startsWith('hub ') || side.startsWith('before ')) && cpuBefore !== undefined && cpuAfter !== undefined) row.hubCpuUsPerOp = Math.round(((cpuAfter - cpuBefore) * 1000) / result.ops)
          // Group commit: the writer's steps per batch in this run (refusals decided on durable state count as steps too).
          if (writesBefore && writesAfter) row.stepsPerBatch = Math.round(((writesAfter.steps - writesBefore.steps) / Math.max(1, writesAfter.batches - writesBefore.batches)) * 10) / 10
          rows.push(row)
          console.log(JSON.stringify({ round, side, clients, ...row.result, ...(row.hubCpuUsPerOp !== undefined && { hubCpuUsPerOp: row.hubCpuUsPerOp }), ...(row.stepsPerBatch !== undefined && { stepsPerBatch: row.stepsPerBatch }) }))
        }
      }
    }
  } finally {
    await hub.stop()
    await before?.stop()
    await pgServer?.stop()
  }
  print(rows, pgServer !== undefined)
}

/** Median of the rounds per side and client count; ratios hub / PostgreSQL. */
function print(rows: Row[], withReference: boolean) {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const pick = (side: string, clients: number) => {
    const mine = rows.filter((r) => r.side === side && r.clients === clients).map((r) => r.result)
    const cpu = rows.filter((r) => r.side === side && r.clients === clients && r.hubCpuUsPerOp !== undefined).map((r) => r.hubCpuUsPerOp!)
    return mine.length === 0
      ? undefined
      : { perSecond: median(mine.map((r) => r.perSecond)), p50Ms: median(mine.map((r) => r.p50Ms)), p99Ms: median(mine.map((r) => r.p99Ms)), cpuUs: cpu.length > 0 ? median(cpu) : undefined }
  }
  console.log(`\nbookings with durable confirmation, same operation mix (median of ${ROUNDS} round(s))`)
  console.log(`${'clients'.padEnd(9)}${'hub ops/s'.padStart(11)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'CPU µs/op'.padStart(11)}${withReference ? `${'PG ops/s'.padStart(11)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'rate hub/PG'.padStart(13)}${'p99 hub/PG'.padStart(12)}` : ''}`)
  for (const [door, clients] of CLIENTS.flatMap((n) => [['hub REST', n], ['before REST', n], ['hub MQTT', n], ['before MQTT', n], ['hub floor', n], ['LevelDB floor', n]] as const)) {
    const h = pick(door, clients)
    if (!h) continue
    const p = door === 'hub floor' ? undefined : pick('PostgreSQL', clients)
    const label = door === 'LevelDB floor' ? 'LevelDB' : door.startsWith('before ') ? `${door.slice(7)}-b` : door.slice(4)
    let line = `${`${clients} ${label}`.padEnd(9)}${String(h.perSecond).padStart(11)}${h.p50Ms.toFixed(1).padStart(9)}${h.p99Ms.toFixed(1).padStart(9)}${(h.cpuUs === undefined ? '-' : String(h.cpuUs)).padStart(11)}`
    if (p) line += `${String(p.perSecond).padStart(11)}${p.p50Ms.toFixed(1).padStart(9)}${p.p99Ms.toFixed(1).padStart(9)}${(h.perSecond / p.perSecond).toFixed(2).padStart(13)}${(h.p99Ms / p.p99Ms).toFixed(2).padStart(12)}`
    console.log(line)
  }
  if (!withReference) console.log('(no PostgreSQL reference in this run)')
  if (rows.some((r) => r.side.startsWith('before '))) console.log(`-b: the BENCH_HUB_BEFORE build (${process.env.BENCH_HUB_BEFORE}), same invocation`)
  for (const clients of CLIENTS) {
    const grouped = (['hub REST', 'hub MQTT', 'before REST', 'before MQTT'] as const)
      .map((side) => [side, rows.filter((r) => r.side === side && r.clients === clients && r.stepsPerBatch !== undefined).map((r) => r.stepsPerBatch!)] as const)
      .filter(([, xs]) => xs.length > 0)
      .map(([side, xs]) => `${side} ${median(xs)}`)
    if (grouped.length > 0) console.log(`${clients} client(s): writer steps per batch (group commit) ${grouped.join(', ')}`)
    const floor = pick('hub floor', clients)
    const rest = pick('hub REST', clients)
    if (floor && rest) console.log(`${clients} client(s): REST bookings at ${(rest.perSecond / floor.perSecond).toFixed(2)}x the HTTP floor (GET /api/me, ${floor.perSecond}/s, p99 ${floor.p99Ms.toFixed(1)} ms)`)
    const level = pick('LevelDB floor', clients)
    const pg = pick('PostgreSQL', clients)
    if (level) {
      const vsPg = pg ? `, ${(level.perSecond / pg.perSecond).toFixed(2)}x PostgreSQL` : ''
      const hub = [rest && `REST at ${(rest.perSecond / level.perSecond).toFixed(2)}x`, pick('hub MQTT', clients) && `MQTT at ${(pick('hub MQTT', clients)!.perSecond / level.perSecond).toFixed(2)}x`].filter(Boolean).join(', ')
      console.log(`${clients} client(s): LevelDB floor (same mix, in-memory check + synced batches, no doors) ${level.perSecond}/s${vsPg}${hub ? `; hub ${hub} it` : ''}`)
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
