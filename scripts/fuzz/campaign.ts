/**
 * One fuzz run: build every case from the seed, throw them at the world concurrently (MQTT sessions
 * of each attacker identity, one-shot sockets, HTTP and WebSocket), then check what must still hold.
 * The cases depend only on the seed (and the count), so a failing seed replays the same attack.
 */
import mqttPacket from 'mqtt-packet'
import mqtt from 'mqtt'
import { oneShot, RawSession, httpSend, rawHttpSend, wsSession } from './clients.js'
import { hostileHttp, hostileWs, rawHttp, type WebCase } from './http-cases.js'
import { connectPacket, postAuthCase, preAuthCase, publishPacket, subscribePacket } from './packets.js'
import { hostilePublish, type Attacker } from './payloads.js'
import { createRng, type Rng } from './rng.js'
import { ATTACKER_MACHINES, BAYS, GOOD_DISPENSERS, MACHINE_ATTACKERS, NODE_ATTACKERS, diffLines, snapshot, startWorld, type World } from './world.js'

export interface FuzzOptions {
  seed: number
  /** hostile MQTT packets and payloads */
  count: number
  /** hostile HTTP and WebSocket requests (default count / 8, at least 1,000) */
  web?: number
  dataDir: string
  progress?: (line: string) => void
}

export interface FuzzReport {
  seed: number
  count: number
  web: number
  sent: Record<string, number>
  /** hostile MQTT packets and payloads that went out */
  mqttSent: number
  /** hostile HTTP requests and WebSocket sessions that went out */
  webSent: number
  durationMs: number
  /** before the warm-up round */
  rssStartMiB: number
  /** after the warm-up round, before the attack */
  rssBeforeMiB: number
  rssAfterMiB: number
  rssGrowthMiB: number
  /** slowest PINGREQ -> PINGRESP of an attacker session (the hub's responsiveness under attack) */
  maxPingMs: number
  httpStatuses: Record<string, number>
  hubLogLines: number
  failures: string[]
  replay: string
}

type SessionCase = { kind: 'publish' | 'subscribe'; bytes: Buffer; note: string }
type ShotCase = { kind: 'pre-auth' | 'post-auth' | 'identity'; first: Buffer[]; after?: Buffer; victim?: string; note: string }

const mib = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Client ids of the attackers' own long-lived sessions (also what a takeover aims at). */
const sessionClientId = (a: Attacker) => (a.role === 'machine' ? a.name : `fz-${a.name}`)
const SESSION_ATTACKERS = [...NODE_ATTACKERS, ...MACHINE_ATTACKERS.slice(0, 2)]
/** the attacker machine used for one-shot connections (its takeovers of itself hit no long session) */
const ONE_SHOT_MACHINE = MACHINE_ATTACKERS[2]!

async function buildMqttCases(seed: number, count: number, world: World, label = '') {
  const perSession = new Map<string, SessionCase[]>(SESSION_ATTACKERS.map((a) => [a.name, []]))
  const shots: ShotCase[] = []
  const creds = (a: Attacker, clientId: string) => ({ clientId, username: a.name, password: world.secrets.get(a.name)!, keepalive: a.role === 'machine' ? 10 : 60 })
  for (let i = 0; i < count; i++) {
    // yield now and then: the well-behaved dispensers in this process must keep their keep-alive
    if (i % 50 === 0) await new Promise((r) => setImmediate(r))
    const rng = createRng(seed).fork(`${label}mqtt:${i}`)
    const r = rng.next()
    if (r < 0.7) {
      const who = rng.chance(0.75) ? rng.pick(NODE_ATTACKERS) : rng.pick(MACHINE_ATTACKERS.slice(0, 2))
      const p = hostilePublish(rng, world.ctx, who)
      const bytes = publishPacket(p.topic, p.payload, { qos: p.qos, retain: p.retain, id: rng.int(1, 65535) })
      perSession.get(who.name)!.push({ kind: 'publish', bytes, note: p.note })
    } else if (r < 0.74) {
      const who = rng.pick(SESSION_ATTACKERS)
      const filter = rng.pick(['#', '$SYS/#', 'internal/#', 'external/#', 'internal/admin', 'internal/kiosk2', 'internal/web_owner', 'external/machine/1', 'external/machine/+', 'internal/+', '+/#', 'internal/manager', 'external/handler', '$share/x/internal/admin'])
      perSession.get(who.name)!.push({ kind: 'subscribe', bytes: subscribePacket([[filter, rng.int(0, 2)]], rng.int(1, 59_999)), note: `${who.name} subscribes ${filter}` })
    } else if (r < 0.84) {
      const who = rng.chance(0.8) ? rng.pick(NODE_ATTACKERS) : ONE_SHOT_MACHINE
      const c = postAuthCase(rng, who.machineId)
      const clientId = who.role === 'machine' ? who.name : `fz-pa-${i}`
      shots.push({ kind: 'post-auth', first: [connectPacket(creds(who, clientId))], after: c.bytes, note: `${who.name}: ${c.note}` })
    } else if (r < 0.96) {
      const c = preAuthCase(rng, { knownNames: ['kiosk_victim', 'machine_009', 'machine_010', 'web_owner', 'nobody', 'machine_018'], machineIds: BAYS })
      shots.push({ kind: 'pre-auth', first: c.bytes, note: `anonymous: ${c.note}` })
    } else {
      // a logged-in identity reaching for someone else's connection or name
      const who = rng.chance(0.8) ? rng.pick(NODE_ATTACKERS) : ONE_SHOT_MACHINE
      const victim = rng.pick(['fuzz-observer', ...SESSION_ATTACKERS.filter((a) => a.name !== who.name).map(sessionClientId), 'machine_001', 'machine_1', 'machine_0001', `machine_${ATTACKER_MACHINES[0]}`])
      const bytes = connectPacket({ ...creds(who, victim), ...(rng.chance(0.2) && { flags: 0xc0 }) })
      shots.push({ kind: 'identity', first: [bytes], after: Buffer.from([0xc0, 0x00]), victim, note: `${who.name} connects as client id ${victim}` })
    }
  }
  return { perSession, shots }
}

async function buildWebCases(seed: number, web: number, world: World, label = ''): Promise<WebCase[]> {
  const cases: WebCase[] = []
  for (let i = 0; i < web; i++) {
    if (i % 20 === 0) await new Promise((r) => setImmediate(r))
    const rng = createRng(seed).fork(`${label}web:${i}`)
    const r = rng.next()
    cases.push(r < 0.76 ? hostileHttp(rng, world.ctx, world.tokens) : r < 0.86 ? rawHttp(rng) : hostileWs(rng, world.tokens))
  }
  return cases
}

/** Runs `worker` over `items` with `n` workers pulling in order. */
async function pool<T>(items: T[], n: number, worker: (item: T, index: number, lane: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: n }, async (_, lane) => {
      while (next < items.length) {
        const i = next++
        await worker(items[i]!, i, lane)
      }
    }),
  )
}

/** Touch every route once so first-use code loading is not counted as growth. */
async function warmUp(world: World): Promise<void> {
  const { httpPort } = world.hub
  const auth = { authorization: `Bearer ${world.tokens.admin}` }
  for (const path of ['/api/health', '/api/me', '/api/schedule', '/api/availability?bays=1&minutes=60', '/api/sessions', '/api/machines', '/api/machines/1', '/api/alerts', '/metrics', '/docs', '/docs/json', '/', '/kiosk', '/api/nope']) {
    await httpSend(httpPort, '127.0.0.1', 'GET', path, auth)
  }
  await httpSend(httpPort, '127.0.0.1', 'POST', '/api/sessions', { ...auth, 'content-type': 'application/json' }, Buffer.from('{"machine_id":0}'))
  await wsSession(httpPort, '127.0.0.1', '/api/live', [JSON.stringify({ token: world.tokens.admin }), '{"type":"ping"}'], 200)
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { seed, count } = options
  const web = options.web ?? Math.max(1000, Math.round(count / 8))
  const progress = options.progress ?? (() => {})
  const replay = `npm run fuzz -- --seed ${seed} --count ${count} --web ${web}`
  const failures: string[] = []
  const fail = (what: string) => {
    if (failures.length < 200) failures.push(what)
  }
  const sent: Record<string, number> = {}
  const warmSent: Record<string, number> = {}
  let counting = false
  const bump = (k: string) => {
    const into = counting ? sent : warmSent
    into[k] = (into[k] ?? 0) + 1
  }
  const httpStatuses: Record<string, number> = {}
  let maxPingMs = 0

  const world = await startWorld(options.dataDir)
  const started = performance.now()
  try {
    await warmUp(world)
    const before = await snapshot(world)
    const rssBefore = await world.settledRssBytes()
    const logStart = world.hub.logs.length
    world.arm()
    const hubGone = () => world.hub.child.exitCode !== null || world.hub.child.signalCode !== null
    // the cases last started, to name the killer if the hub dies
    const recent: string[] = []
    const begin = (what: string) => {
      recent.push(what)
      if (recent.length > 16) recent.shift()
    }
    let attacking = true
    world.hub.child.once('exit', () => attacking && fail(`the hub died; the cases last started were:\n    ${recent.join('\n    ')}`))
    const shotTimes: Record<string, { n: number; ms: number; timeouts: number }> = {}
    const { mqttPort, httpPort } = world.hub

    const round = async (perSession: Map<string, SessionCase[]>, shots: ShotCase[], webCases: WebCase[]) => {
      // ---------------------------------------------------------------- attacker MQTT sessions
      const foreign = new Set(world.ctx.foreignSessionIds)
      const sessions = SESSION_ATTACKERS.map((a, i) => {
        const ownTopic = a.role === 'machine' ? `external/machine/${a.machineId}` : a.name === 'kiosk_interface' ? 'internal/kiosk' : a.name === 'reservation_interface' ? 'internal/reservation' : a.name === 'admin_portal' ? 'internal/admin' : `internal/${a.name}`
        return new RawSession(a.name, {
          port: mqttPort,
          localAddress: `127.0.0.${10 + i}`,
          connect: { clientId: sessionClientId(a), username: a.name, password: world.secrets.get(a.name)!, keepalive: a.role === 'machine' ? 10 : 60 },
          subscribe: [ownTopic],
          onPublish: (topic, payload) => {
            if (a.role === 'admin' || a.role === 'machine') return
            let m: Record<string, unknown>
            try {
              m = JSON.parse(payload.toString()) as Record<string, unknown>
            } catch {
              return
            }
            if (m.schedule !== undefined) return
            const sid = m.session_id
            // a kiosk or reservation node owns nothing here: any accepted change, or any sight of
            // another node's session, is a bug
            if (m.success === true && m.request_id === undefined) fail(`${a.name} got an accepted Confirmation on ${topic}: ${payload.toString().slice(0, 300)}`)
            else if (m.success !== false && typeof sid === 'number' && foreign.has(sid)) fail(`${a.name} read foreign session ${sid} on ${topic}: ${payload.toString().slice(0, 300)}`)
          },
        })
      })
      for (const s of sessions) {
        const code = await s.open()
        if (code !== 0) throw new Error(`fuzz setup: attacker session ${s.label} got CONNACK ${code}`)
      }

      // A session's own cases and an identity shot aimed at its client id take turns: a shot is
      // judged only against a victim proven live (PINGRESP) and sending nothing while the shot
      // runs, so the one reason the hub could then close the victim is a takeover. (Judged by the
      // victim's state after the shot alone, a victim the hub had closed for its own hostile
      // packet and that reconnected as the shot left read as a takeover.)
      const turns = new Map<RawSession, Promise<void>>()
      const inTurn = async <T>(s: RawSession, work: () => Promise<T>): Promise<T> => {
        const before = turns.get(s) ?? Promise.resolve()
        let done!: () => void
        turns.set(s, before.then(() => new Promise<void>((r) => (done = r))))
        await before
        try {
          return await work()
        } finally {
          done()
        }
      }
      const sessionByClientId = new Map(sessions.map((s) => [sessionClientId(SESSION_ATTACKERS.find((a) => a.name === s.label)!), s]))

      const runSession = async (s: RawSession) => {
        const cases = perSession.get(s.label)!
        for (const [i, c] of cases.entries()) {
          if (hubGone()) return
          const refused = await inTurn(s, async () => {
            begin(`${s.label} session case ${i}: ${c.note}`)
            if (!s.connected) {
              const code = await s.open()
              if (code !== 0) {
                bump(`${c.kind} (session refused)`)
                return true
              }
            }
            s.write(c.bytes)
            bump(c.kind)
            if (i % 25 === 24) {
              const t0 = performance.now()
              const ok = await s.ping(15_000)
              const ms = performance.now() - t0
              maxPingMs = Math.max(maxPingMs, ms)
              if (!ok && s.connected) fail(`hub did not answer PINGREQ of ${s.label} within 15 s (after: ${c.note})`)
            }
            return false
          })
          if (refused) await sleep(50)
        }
      }

      // ---------------------------------------------------------------- one-shot connections
      const runShot = async (c: ShotCase, i: number, lane: number) => {
        if (hubGone()) return
        const shoot = async (victimLive: boolean) => {
          begin(`shot ${i}: ${c.note}`)
          const r = await oneShot(mqttPort, `127.0.0.${20 + lane}`, c.first, c.after, 1000)
          bump(c.kind)
          const t = (shotTimes[c.kind] ??= { n: 0, ms: 0, timeouts: 0 })
          t.n++
          t.ms += r.ms
          if (!r.closedByHub) t.timeouts++
          // accepted under the client id of another identity's live connection: a takeover
          if (r.connack === 0 && victimLive) fail(`shot ${i}: ${c.note} was accepted (CONNACK 0)`)
        }
        const victim = c.kind === 'identity' && c.victim !== undefined ? sessionByClientId.get(c.victim) : undefined
        if (victim) await inTurn(victim, async () => shoot(victim.connected && (await victim.ping(15_000))))
        else await shoot(c.kind === 'identity' && c.victim === 'fuzz-observer')
      }

      // ---------------------------------------------------------------- HTTP and WebSocket
      const runWeb = async (c: WebCase, i: number, lane: number) => {
        if (hubGone()) return
        begin(`web ${i}: ${c.kind} ${c.note}`)
        const from = `127.0.0.${30 + lane}`
        if (c.kind === 'http') {
          const r = await httpSend(httpPort, from, c.method, c.path, c.headers, c.body)
          if (r.error?.startsWith('unsendable')) {
            bump('http (not sendable by node:http)')
            return
          }
          bump('http')
          const key = r.status ? String(r.status) : r.error ?? 'none'
          httpStatuses[key] = (httpStatuses[key] ?? 0) + 1
          if (r.status >= 500) fail(`web ${i}: ${c.method} ${c.path.slice(0, 120)} (${c.note}) answered ${r.status} ${r.body.slice(0, 200)}`)
          if (r.error === 'timeout') fail(`web ${i}: ${c.method} ${c.path.slice(0, 120)} (${c.note}) got no answer in 15 s`)
          if (c.mutation && r.status >= 200 && r.status < 300) fail(`web ${i}: ${c.method} ${c.path.slice(0, 120)} (${c.note}) was accepted: ${r.status} ${r.body.slice(0, 200)}`)
        } else if (c.kind === 'raw-http') {
          const r = await rawHttpSend(httpPort, from, c.bytes, 300)
          bump('raw-http')
          if (r.status !== undefined && r.status >= 500) fail(`web ${i}: raw HTTP (${c.note}) answered ${r.status}`)
        } else {
          const r = await wsSession(httpPort, from, c.path, c.frames, 250)
          bump('ws')
          if (r.httpStatus !== undefined && r.httpStatus >= 500) fail(`web ${i}: WebSocket ${c.path.slice(0, 80)} (${c.note}) answered ${r.httpStatus}`)
          if (r.closeCode === 1011) fail(`web ${i}: WebSocket (${c.note}) closed with 1011 (internal error)`)
        }
      }

      const ticker = setInterval(() => progress(`  sent ${JSON.stringify(sent)}`), 5000)
      try {
        await Promise.all([Promise.all(sessions.map(runSession)), pool(shots, 8, runShot), pool(webCases, 4, runWeb)])
      } finally {
        clearInterval(ticker)
      }
      // every session's last packets are read before the checks
      for (const s of sessions) if (s.connected) await s.ping(15_000)
      for (const s of sessions) s.close()
    }

    // A first, shorter round of the same kind of attack (other cases) brings the hub to its working
    // size (V8 heap, allocator arenas, code), so RSS growth measured over the main round is what
    // the attack leaves behind, not start-up. A leak grows in every round.
    const warm = await buildMqttCases(seed, Math.round(count / 5), world, 'warm-up ')
    await round(warm.perSession, warm.shots, await buildWebCases(seed, Math.round(web / 5), world, 'warm-up '))
    const rssWarm = await world.settledRssBytes()
    counting = true
    const { perSession, shots } = await buildMqttCases(seed, count, world)
    const webCases = await buildWebCases(seed, web, world)
    progress(`seed ${seed}: warm-up ${JSON.stringify(warmSent)}, RSS ${mib(rssBefore)} -> ${mib(rssWarm)} MiB; now ${count} MQTT cases, ${web} HTTP/WebSocket cases`)
    await round(perSession, shots, webCases)
    attacking = false
    progress(`  one-shot connections: ${Object.entries(shotTimes).map(([k, v]) => `${k} ${v.n} x ${Math.round(v.ms / v.n)} ms (${v.timeouts} not closed by the hub)`).join(', ')}`)
    progress(`  attack done in ${Math.round(performance.now() - started)} ms: ${JSON.stringify(sent)}`)

    // ---------------------------------------------------------------- what must hold
    await sleep(1500)
    if (world.hub.child.exitCode !== null || world.hub.child.signalCode !== null) {
      fail(`the hub process exited (${world.hub.child.exitCode ?? world.hub.child.signalCode}); its stderr ends:\n${world.stderrTail}`)
    } else {
      const health = await httpSend(httpPort, '127.0.0.1', 'GET', '/api/health', {})
      if (health.status !== 200 || !/"ok":true/.test(health.body)) fail(`/api/health answered ${health.status} ${health.body.slice(0, 200)}`)
      const after = await snapshot(world)
      for (const line of diffLines(before.sessions, after.sessions)) fail(`sessions changed: ${line}`)
      for (const line of diffLines(before.machines, after.machines)) fail(`machines changed: ${line}`)
      const machinesBefore = JSON.parse(before.machines) as Array<Record<string, unknown>>
      for (const m of world.seen.machineChanges) {
        const was = machinesBefore.find((b) => b.machine_id === m.machine_id)
        for (const k of ['status', 'reported_status', 'ball_level', 'session_id', 'desired', 'online', 'error'] as const) {
          if (was && JSON.stringify(was[k]) !== JSON.stringify(m[k])) fail(`machine ${String(m.machine_id)} changed ${k} during the attack: ${JSON.stringify(was[k])} -> ${JSON.stringify(m[k])}`)
        }
      }
      for (const s of world.seen.sessionChanges.slice(0, 10)) fail(`session change during the attack: ${JSON.stringify(s).slice(0, 300)}`)
      const list = (await world.admin('GET', '/api/machines')).json as Array<{ machine_id: number; online: boolean }>
      for (const id of GOOD_DISPENSERS) if (!list.find((m) => m.machine_id === id)?.online) fail(`dispenser ${id} is not online after the attack`)
      for (const d of world.dispenserDrops) fail(`a well-behaved dispenser was disconnected: ${d}`)
      if (world.observerDrops > 0) fail(`the admin observer was disconnected ${world.observerDrops} time(s)`)
      // retained messages on the hub's inboxes or on dispensers' topics would replay to every new subscriber
      const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'fuzz-retain-probe', username: 'fuzz_observer', password: world.secrets.get('fuzz_observer')!, reconnectPeriod: 0 })
      const retained: string[] = []
      probe.on('message', (topic, _p, packet) => packet.retain && retained.push(topic))
      await probe.subscribeAsync(['internal/#', 'external/#'], { qos: 1 })
      await sleep(500)
      await probe.endAsync(true)
      for (const topic of [...new Set(retained)].slice(0, 10)) fail(`a retained message is kept on ${topic}`)
      await sleep(1000)
    }
    const rssAfter = await world.settledRssBytes()
    const growth = rssAfter - rssWarm
    if (!(growth < 20 * 1024 * 1024) && !Number.isNaN(rssAfter)) fail(`hub RSS grew ${mib(growth)} MiB over the attack (${mib(rssWarm)} -> ${mib(rssAfter)}), limit 20 MiB`)
    const logs = world.hub.logs.slice(logStart)
    const errors = logs.filter((l) => typeof l.level === 'number' && l.level >= 50)
    for (const e of errors.slice(0, 5)) fail(`hub logged an error: ${JSON.stringify(e).slice(0, 400)}`)
    return {
      seed,
      count,
      web,
      sent,
      mqttSent: ['publish', 'subscribe', 'pre-auth', 'post-auth', 'identity'].reduce((n, k) => n + (sent[k] ?? 0), 0),
      webSent: ['http', 'raw-http', 'ws'].reduce((n, k) => n + (sent[k] ?? 0), 0),
      durationMs: Math.round(performance.now() - started),
      rssStartMiB: mib(rssBefore),
      rssBeforeMiB: mib(rssWarm),
      rssAfterMiB: mib(rssAfter),
      rssGrowthMiB: mib(growth),
      maxPingMs: Math.round(maxPingMs),
      httpStatuses,
      hubLogLines: logs.length,
      failures,
      replay,
    }
  } finally {
    await world.close()
  }
}

export { createRng, type Rng }
export const _internal = { buildMqttCases, buildWebCases, mqttPacket }
