/**
 * Flood benchmark (issue 10, defects 4 and 6), against the real hub process (`node dist/main.js`)
 * with 20 well-behaved simulated dispensers connected throughout:
 *
 *   1. schedule flood: one kiosk node sends 1,000 QoS 0 schedule Requests as fast as its socket
 *      takes them. Printed: the hub's own event-loop delay (p99/max, from /metrics), its lag seen
 *      from outside (latency of /api/health and
 *      of an MQTT PINGREQ, sampled every 20 ms: p50/p99/max), dispensers dropped (must be 0), and
 *      how many Schedule replies the kiosk was allowed (the rest refused or dropped by rate limits).
 *   2. wrong-password storm: 40 sockets reconnect with random passwords for one node name as fast
 *      as the hub answers. Printed: CONNECT -> CONNACK latency of good dispenser logins, each with a
 *      cold credential cache (a machine never seen before), during the storm.
 *
 * Each scenario runs against a reference run in the same invocation (same hub, same dispensers, no
 * attack); the table shows the ratio attack / reference.
 *
 *   npm run bench -- flood [requests=1000] [storm-sockets=40]
 *
 * Measured 2026-12-01 on the shared 2-core build box (load ~15), after issue 10's fixes: flood
 * /api/health max 1,062 ms (reference 273), PINGRESP max 1,041 ms, 37 Schedule replies allowed and
 * 1 "rate limited" refusal, 0 dispensers dropped; storm: good cold login p50 222 ms vs 18.8 ms, max
 * 642 ms vs 72 ms, 966 wrong-password attempts (920 CONNACK 4 from the back-off), 0 dropped.
 * Before the fixes the flood stalled the hub 46.9 s and dropped every dispenser (60 disconnects).
 *
 * Again with the hub's own event-loop delay, box at load ~2 (the test suite alongside): flood
 * delay p99 17.2 ms / max 163 ms (reference 11.8 / 27.6), 31 replies allowed, 0 dropped; storm
 * good login p50 67 ms vs 29 ms, delay max 22.6 ms vs 14.4 ms, 1,984 attempts, 0 dropped.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { credentialsPath, hashSecret, readCredentials, writeCredentials } from '../../src/broker/credentials.js'
import { createSimulator } from '../../src/simulator/index.js'
import { startHubProcess, type HubProcess } from '../../test/helpers/hub-process.js'
import { httpSend, oneShot, RawSession } from '../fuzz/clients.js'
import { connectPacket, publishPacket } from '../fuzz/packets.js'
import { percentile, printComparison } from './lib/stats.js'

const [requestsArg, stormArg] = process.argv.slice(2)
const REQUESTS = Number(requestsArg ?? 1000)
const STORM_SOCKETS = Number(stormArg ?? 40)
const DISPENSERS = 20
const PROBE_MACHINES = 20 // cold logins: 10 for the reference, 10 during the storm
const ADMIN_TOKEN = `bench-${randomBytes(16).toString('hex')}`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const name = (id: number) => `machine_${String(id).padStart(3, '0')}`

interface Lag {
  httpP50: number
  httpP99: number
  httpMax: number
  mqttP99: number
  mqttMax: number
  samples: number
}

/**
 * The hub's own event-loop delay (p99, max in ms) since the previous call, from /metrics: each scrape
 * starts a new window, so calling it before and after a scenario gives that scenario's figures.
 */
async function hubLoopDelay(hub: HubProcess): Promise<{ p99: number; max: number }> {
  const res = await httpSend(hub.httpPort, '127.0.0.1', 'GET', '/metrics', { authorization: `Bearer ${ADMIN_TOKEN}` }, undefined, 120_000)
  const value = (q: string) => Number(new RegExp(`^dispenser_event_loop_delay_ms\\{quantile="${q}"\\} (\\S+)$`, 'm').exec(res.body)?.[1] ?? NaN)
  return { p99: value('0.99'), max: value('1') }
}

/** Samples /api/health and an MQTT PINGREQ every 20 ms until stopped: the hub's responsiveness. */
function startProbe(hub: HubProcess, ping: RawSession) {
  const http: number[] = []
  const mqtt: number[] = []
  let running = true
  const loop = async (sample: () => Promise<number>, into: number[]) => {
    while (running) {
      const t0 = performance.now()
      into.push(await sample())
      await sleep(Math.max(0, 20 - (performance.now() - t0)))
    }
  }
  const done = Promise.all([
    loop(async () => (await httpSend(hub.httpPort, '127.0.0.1', 'GET', '/api/health', {}, undefined, 60_000)).ms, http),
    loop(async () => {
      const t0 = performance.now()
      await ping.ping(60_000)
      return performance.now() - t0
    }, mqtt),
  ])
  return {
    async stop(): Promise<Lag> {
      running = false
      await done
      const h = [...http].sort((a, b) => a - b)
      const m = [...mqtt].sort((a, b) => a - b)
      const r = (n: number) => Math.round(n * 10) / 10
      return { httpP50: r(percentile(h, 50)), httpP99: r(percentile(h, 99)), httpMax: r(h.at(-1) ?? NaN), mqttP99: r(percentile(m, 99)), mqttMax: r(m.at(-1) ?? NaN), samples: h.length }
    },
  }
}

async function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-flood-'))
  const secrets = new Map<string, string>()
  const file = readCredentials(credentialsPath(dataDir))
  for (let id = 1; id <= DISPENSERS + PROBE_MACHINES; id++) {
    const secret = randomBytes(12).toString('base64url')
    secrets.set(name(id), secret)
    file.machines[String(id)] = await hashSecret(secret)
  }
  for (const [node, role] of [['kiosk_interface', 'kiosk'], ['bench_probe', 'admin'], ['kiosk_victim', 'kiosk']] as const) {
    const secret = randomBytes(12).toString('base64url')
    secrets.set(node, secret)
    file.nodes[node] = { ...(await hashSecret(secret)), role }
  }
  writeCredentials(credentialsPath(dataDir), file)
  const hub = await startHubProcess(
    { HUB_DATA_DIR: dataDir, HUB_MACHINES: `1-${DISPENSERS + PROBE_MACHINES}`, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: ADMIN_TOKEN },
    60_000,
    'dist',
  )
  const drops: string[] = []
  let counting = false
  const sim = createSimulator({ url: `mqtt://127.0.0.1:${hub.mqttPort}`, ids: Array.from({ length: DISPENSERS }, (_, i) => i + 1), credentials: (id) => ({ username: name(id), password: secrets.get(name(id))! }) })
  await sim.start()
  for (const d of sim.dispensers) d.on('disconnected', () => counting && drops.push(`machine ${d.id}`))
  const ping = new RawSession('probe', { port: hub.mqttPort, connect: { clientId: 'bench-probe', username: 'bench_probe', password: secrets.get('bench_probe')!, keepalive: 60 } })
  if ((await ping.open()) !== 0) throw new Error('probe could not connect')
  await sleep(2000) // connect-time reconciles and first reports
  counting = true
  const online = async () => {
    const r = await httpSend(hub.httpPort, '127.0.0.1', 'GET', '/api/health', {})
    return (JSON.parse(r.body) as { machines: { online: number } }).machines.online
  }
  return {
    hub,
    secrets,
    drops,
    ping,
    online,
    async close() {
      counting = false
      ping.close()
      await sim.stop()
      await hub.kill('SIGTERM')
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

// ------------------------------------------------------------------ 1. schedule flood

async function flood(world: Awaited<ReturnType<typeof setup>>, requests: number) {
  let schedules = 0
  let refusals = 0
  let lastReplyAt = performance.now()
  const kiosk = new RawSession('kiosk', {
    port: world.hub.mqttPort,
    connect: { clientId: 'bench-kiosk', username: 'kiosk_interface', password: world.secrets.get('kiosk_interface')!, keepalive: 60 },
    subscribe: ['internal/kiosk'],
    onPublish: (_topic, payload) => {
      lastReplyAt = performance.now()
      const text = payload.toString()
      if (text.includes('"schedule"')) schedules++
      else if (text.includes('"success":false')) refusals++
    },
  })
  if ((await kiosk.open()) !== 0) throw new Error('kiosk could not connect')
  await kiosk.ping(10_000) // subscribed before the flood
  const dropsBefore = world.drops.length
  await hubLoopDelay(world.hub) // starts the scenario's window
  const probe = startProbe(world.hub, world.ping)
  await sleep(500)
  const t0 = performance.now()
  let sent = 0
  if (requests > 0) {
    // all in one write: as fast as the kiosk's socket takes them
    const bytes = Buffer.concat(Array.from({ length: requests }, (_, i) => publishPacket('internal/manager', Buffer.from(JSON.stringify({ request_type: 'schedule', request_id: i + 1, origin_node: 'kiosk_interface' })))))
    kiosk.write(bytes)
    sent = requests
  }
  // until every request is answered, or the replies stopped while the hub answers again, or 120 s
  lastReplyAt = performance.now()
  const answered = () => schedules + refusals >= sent
  const responsive = async () => (await httpSend(world.hub.httpPort, '127.0.0.1', 'GET', '/api/health', {}, undefined, 120_000)).ms < 500
  // at least 5 s of probing, so the reference and a well-protected hub have as many samples
  while ((!answered() || performance.now() - t0 < 5000) && performance.now() - t0 < 120_000) {
    await sleep(200)
    if (performance.now() - lastReplyAt > 3000 && (await responsive())) break
  }
  const lag = await probe.stop()
  const loop = await hubLoopDelay(world.hub)
  const elapsed = performance.now() - t0
  kiosk.close()
  return { lag, loop, sent, schedules, refusals, kioskKicked: kiosk.closesByHub, dropped: world.drops.length - dropsBefore, online: await world.online(), elapsedS: elapsed / 1000 }
}

// ------------------------------------------------------------------ 2. wrong-password storm

async function goodLogins(world: Awaited<ReturnType<typeof setup>>, ids: number[]): Promise<number[]> {
  const out: number[] = []
  for (const id of ids) {
    const r = await oneShot(world.hub.mqttPort, '127.0.0.1', [connectPacket({ clientId: name(id), username: name(id), password: world.secrets.get(name(id))!, keepalive: 10 })], Buffer.from([0xe0, 0x00]), 1000, 60_000)
    // no CONNACK within 60 s counts as 60 s: the dispenser would have given up long before
    out.push(r.connack === 0 ? r.connackMs ?? r.ms : 60_000)
    await sleep(50)
  }
  return out
}

async function storm(world: Awaited<ReturnType<typeof setup>>, ids: number[], sockets: number) {
  const dropsBefore = world.drops.length
  let attempts = 0
  const codes: Record<string, number> = {}
  let running = sockets > 0
  const attackers = Array.from({ length: sockets }, async (_, i) => {
    while (running) {
      const r = await oneShot(world.hub.mqttPort, `127.0.0.${2 + (i % 8)}`, [connectPacket({ clientId: `storm-${i}`, username: 'kiosk_victim', password: randomBytes(12).toString('base64url'), keepalive: 30 })], undefined, 10_000)
      attempts++
      const key = r.connack === undefined ? 'closed' : `CONNACK ${r.connack}`
      codes[key] = (codes[key] ?? 0) + 1
    }
  })
  if (sockets > 0) await sleep(1000) // the storm is under way
  await hubLoopDelay(world.hub)
  const probe = startProbe(world.hub, world.ping)
  const latencies = await goodLogins(world, ids)
  const lag = await probe.stop()
  const loop = await hubLoopDelay(world.hub)
  running = false
  await Promise.all(attackers)
  latencies.sort((a, b) => a - b)
  return { latencies, lag, loop, attempts, codes, dropped: world.drops.length - dropsBefore }
}

// ------------------------------------------------------------------ run

const r = (n: number) => Math.round(n * 10) / 10
console.log(`flood benchmark: hub process (dist/main.js), ${DISPENSERS} simulated dispensers; ${REQUESTS} schedule Requests; ${STORM_SOCKETS} wrong-password sockets; node ${process.version}`)
const world = await setup()
try {
  const quiet = await flood(world, 0)
  const loud = await flood(world, REQUESTS)
  printComparison(`1. one kiosk node sends ${REQUESTS} QoS 0 schedule Requests at once (reference: none)`, ['reference', 'flood'], [
    ['hub event-loop delay p99 (ms)', quiet.loop.p99, loud.loop.p99],
    ['hub event-loop delay max (ms)', quiet.loop.max, loud.loop.max],
    ['GET /api/health latency p50 (ms)', quiet.lag.httpP50, loud.lag.httpP50],
    ['GET /api/health latency p99 (ms)', quiet.lag.httpP99, loud.lag.httpP99],
    ['GET /api/health latency max (ms)', quiet.lag.httpMax, loud.lag.httpMax],
    ['MQTT PINGREQ -> PINGRESP p99 (ms)', quiet.lag.mqttP99, loud.lag.mqttP99],
    ['MQTT PINGREQ -> PINGRESP max (ms)', quiet.lag.mqttMax, loud.lag.mqttMax],
    ['probe samples', quiet.lag.samples, loud.lag.samples],
    ['Schedule replies the kiosk got', quiet.schedules, loud.schedules],
    ['refusals the kiosk got', quiet.refusals, loud.refusals],
    ['kiosk disconnected by the hub', quiet.kioskKicked, loud.kioskKicked],
    ['dispensers dropped', quiet.dropped, loud.dropped],
    ['dispensers online after', quiet.online, loud.online],
    ['scenario time (s)', r(quiet.elapsedS), r(loud.elapsedS)],
  ])
  // the storm scenarios start from a settled hub with every dispenser back
  for (let i = 0; i < 120 && (await world.online()) < DISPENSERS; i++) await sleep(500)
  const probeIds = Array.from({ length: PROBE_MACHINES }, (_, i) => DISPENSERS + 1 + i)
  const calm = await storm(world, probeIds.slice(0, PROBE_MACHINES / 2), 0)
  const stormy = await storm(world, probeIds.slice(PROBE_MACHINES / 2), STORM_SOCKETS)
  printComparison(`2. good dispenser logins (cold cache) during a wrong-password storm on "kiosk_victim" from ${STORM_SOCKETS} sockets (reference: no storm)`, ['reference', 'storm'], [
    ['good login CONNECT -> CONNACK p50 (ms)', r(percentile(calm.latencies, 50)), r(percentile(stormy.latencies, 50))],
    ['good login CONNECT -> CONNACK max (ms)', r(calm.latencies.at(-1) ?? NaN), r(stormy.latencies.at(-1) ?? NaN)],
    ['hub event-loop delay p99 (ms)', calm.loop.p99, stormy.loop.p99],
    ['hub event-loop delay max (ms)', calm.loop.max, stormy.loop.max],
    ['GET /api/health latency p99 (ms)', calm.lag.httpP99, stormy.lag.httpP99],
    ['MQTT PINGREQ -> PINGRESP max (ms)', calm.lag.mqttMax, stormy.lag.mqttMax],
    ['wrong-password attempts made', calm.attempts, stormy.attempts],
    ['dispensers dropped', calm.dropped, stormy.dropped],
  ])
  console.log(`storm answers: ${JSON.stringify(stormy.codes)}`)
  const dropped = loud.dropped + stormy.dropped
  console.log(dropped === 0 ? '\nno dispenser dropped' : `\n${dropped} dispenser disconnect(s): ${world.drops.join(', ')}`)
} finally {
  await world.close()
}
process.exit(0)
