/**
 * The world a fuzz run attacks: the real hub process (test/helpers/hub-process.ts) on a fresh data
 * dir with credentials for every identity, a booked future the attackers must not touch, well-behaved
 * virtual dispensers connected throughout, and an admin observer on internal/admin that sees every
 * session and machine change the hub makes.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt, { type MqttClient } from 'mqtt'
import { apiTokenEntry, credentialsPath, hashSecret, newApiToken, readCredentials, writeCredentials } from '../../src/broker/credentials.js'
import { createSimulator, type Simulator } from '../../src/simulator/index.js'
import { startHubProcess, type HubProcess } from '../../test/helpers/hub-process.js'
import { httpSend } from './clients.js'
import type { HttpTokens } from './http-cases.js'
import type { Attacker, PayloadContext } from './payloads.js'

export const BAYS = Array.from({ length: 20 }, (_, i) => i + 1)
/** dispensers that behave, connected from before the first hostile byte to after the last */
export const GOOD_DISPENSERS = [1, 2, 3, 4, 5, 6, 7, 8]
/** bays an admin override holds (kiosk overrides on them must be refused) */
export const ADMIN_HELD = [13, 14]
/** machines whose credentials the attacker has (their own state is theirs to change) */
export const ATTACKER_MACHINES = [15, 16, 17]

export const NODE_ATTACKERS: Attacker[] = [
  { role: 'kiosk', name: 'kiosk_interface' },
  { role: 'kiosk', name: 'kiosk2' },
  { role: 'reservation', name: 'reservation_interface' },
  { role: 'admin', name: 'admin_portal' },
]
export const MACHINE_ATTACKERS: Attacker[] = ATTACKER_MACHINES.map((id) => ({ role: 'machine', name: `machine_${String(id).padStart(3, '0')}`, machineId: id }))

const ROLE_OF: Record<string, 'kiosk' | 'reservation' | 'admin'> = {
  kiosk_interface: 'kiosk',
  kiosk2: 'kiosk',
  reservation_interface: 'reservation',
  admin_portal: 'admin',
  fuzz_observer: 'admin',
  kiosk_victim: 'kiosk',
}

export interface World {
  hub: HubProcess
  dataDir: string
  /** MQTT secrets by node name or machine_NNN */
  secrets: Map<string, string>
  tokens: HttpTokens
  ctx: PayloadContext
  sim: Simulator
  /** disconnects of good dispensers since they connected */
  dispenserDrops: string[]
  observer: MqttClient
  observerDrops: number
  /** session changes and machine changes the observer saw after `arm()` */
  seen: { sessionChanges: Array<Record<string, unknown>>; machineChanges: Array<Record<string, unknown>> }
  /** start recording changes (after seeding) */
  arm(): void
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>
  rssBytes(): number
  /** RSS after a full GC in the hub (SIGUSR2, see gc-on-signal.cjs) */
  settledRssBytes(): Promise<number>
  /** the end of the hub's stderr (an uncaught exception lands there) */
  readonly stderrTail: string
  close(): Promise<void>
}

const DAY = 86_400

function utcDay(epochS: number): string {
  return new Date(epochS * 1000).toISOString().slice(0, 10)
}

export async function startWorld(dataDir: string): Promise<World> {
  // ---- credentials, as the CLI would write them
  const secrets = new Map<string, string>()
  const file = readCredentials(credentialsPath(dataDir))
  for (const id of [...GOOD_DISPENSERS, ...ATTACKER_MACHINES, 9, 10]) {
    const secret = randomBytes(12).toString('base64url')
    secrets.set(`machine_${String(id).padStart(3, '0')}`, secret)
    file.machines[String(id)] = await hashSecret(secret)
  }
  for (const [name, role] of Object.entries(ROLE_OF)) {
    const secret = randomBytes(12).toString('base64url')
    secrets.set(name, secret)
    file.nodes[name] = { ...(await hashSecret(secret)), role }
  }
  const token = (name: string, role: 'kiosk' | 'reservation') => {
    const t = newApiToken(name)
    file.tokens[name] = apiTokenEntry(t, role)
    return t
  }
  const tokens: HttpTokens = { admin: `adm-${randomBytes(24).toString('hex')}`, kiosk: token('lobby', 'kiosk'), reservation: token('web', 'reservation') }
  const ownerToken = token('web_owner', 'reservation')
  writeCredentials(credentialsPath(dataDir), file)

  const hub = await startHubProcess({
    HUB_DATA_DIR: dataDir,
    HUB_MACHINES: `1-${BAYS.length}`,
    HUB_TIMEZONE: 'UTC',
    HUB_ADMIN_TOKEN: tokens.admin,
    HUB_WEBHOOK_SECRET: randomBytes(16).toString('hex'),
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --require ${join(dirname(fileURLToPath(import.meta.url)), 'gc-on-signal.cjs')}`.trim(),
    // Rate limits raised so that every hostile case reaches the decoders and handlers instead of
    // being dropped at the door; the limits have their own tests and `npm run bench -- flood`.
    HUB_MQTT_RATE: '5000',
    HUB_MQTT_BURST: '5000',
    HUB_MQTT_MACHINE_RATE: '5000',
    HUB_HTTP_AUTH_FAILURES_PER_MINUTE: '100000',
    HUB_HTTP_BOOKINGS_PER_MINUTE: '100000',
  })
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => hub.kill('SIGKILL')]
  let stderr = ''
  hub.child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000)
  })
  try {
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await httpSend(hub.httpPort, '127.0.0.1', method, path, { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body !== undefined ? Buffer.from(JSON.stringify(body)) : undefined)
      let json: unknown
      try {
        json = JSON.parse(res.body)
      } catch {
        json = res.body
      }
      return { status: res.status, json }
    }
    const admin = (method: string, path: string, body?: unknown) => call(tokens.admin, method, path, body)
    const must = async (what: string, p: Promise<{ status: number; json: unknown }>) => {
      const r = await p
      if (r.status < 200 || r.status > 299) throw new Error(`fuzz setup: ${what} answered ${r.status} ${JSON.stringify(r.json)}`)
      return r.json as Record<string, unknown>
    }

    // ---- a booked future, 30 days out: an all-bay maintenance window and a customer's sessions
    const now = Math.floor(Date.now() / 1000)
    const day0 = Math.floor(now / DAY) * DAY + 30 * DAY
    const window: [number, number] = [day0 + 8 * 3600, day0 + 16 * 3600]
    const block = await must('maintenance block', admin('POST', '/api/sessions', { machine_id: BAYS, status: 'maintenance', start_time: window[0], duration: window[1] - window[0] }))
    const foreign: number[] = [Number(block.session_id)]
    for (const [i, bays] of [[1], [2, 3], [9], [20]].entries()) {
      const s = await must('customer session', call(ownerToken, 'POST', '/api/sessions', { machine_id: bays, status: 'reserved', start_time: day0 + DAY + (10 + i) * 3600, duration: 3600 }))
      foreign.push(Number(s.session_id))
    }
    for (const id of ADMIN_HELD) await must(`override ${id}`, admin('POST', `/api/machines/${id}/override`, { status: 'maintenance' }))

    // ---- well-behaved dispensers
    const dispenserDrops: string[] = []
    const sim = createSimulator({
      url: `mqtt://127.0.0.1:${hub.mqttPort}`,
      ids: GOOD_DISPENSERS,
      credentials: (id) => {
        const name = `machine_${String(id).padStart(3, '0')}`
        return { username: name, password: secrets.get(name)! }
      },
    })
    cleanups.unshift(() => sim.stop())
    await sim.start()
    let stopping = false
    for (const d of sim.dispensers) d.on('disconnected', () => !stopping && dispenserDrops.push(`machine ${d.id} at ${new Date().toISOString()}`))
    // wait until the hub counts them online
    for (let i = 0; i < 200; i++) {
      const r = await admin('GET', '/api/machines')
      const list = r.json as Array<{ machine_id: number; online: boolean }>
      if (GOOD_DISPENSERS.every((id) => list.find((m) => m.machine_id === id)?.online)) break
      await new Promise((r) => setTimeout(r, 50))
    }

    // ---- the observer: every change the hub makes shows up on internal/admin
    const seen: World['seen'] = { sessionChanges: [], machineChanges: [] }
    let armed = false
    const observer = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'fuzz-observer', username: 'fuzz_observer', password: secrets.get('fuzz_observer')!, reconnectPeriod: 0, keepalive: 30 })
    cleanups.unshift(() => observer.endAsync(true))
    await observer.subscribeAsync('internal/admin', { qos: 1 })
    let observerDrops = 0
    observer.on('close', () => !stopping && observerDrops++)
    observer.on('message', (_topic, payload) => {
      if (!armed) return
      let m: Record<string, unknown>
      try {
        m = JSON.parse(payload.toString()) as Record<string, unknown>
      } catch {
        return
      }
      if (typeof m.change === 'string') seen.sessionChanges.push(m)
      else if (typeof m.online === 'boolean' && typeof m.machine_id === 'number' && !ATTACKER_MACHINES.includes(m.machine_id)) seen.machineChanges.push(m)
    })

    const nodeNames = [...Object.keys(ROLE_OF), 'web_owner', 'lobby', 'web']
    const ctx: PayloadContext = { now, window, bays: BAYS, foreignSessionIds: foreign, adminHeldBays: ADMIN_HELD, nodeNames }
    const world: World = {
      hub,
      dataDir,
      secrets,
      tokens,
      ctx,
      sim,
      dispenserDrops,
      observer,
      get observerDrops() {
        return observerDrops
      },
      seen,
      arm: () => {
        armed = true
      },
      admin,
      get stderrTail() {
        return stderr.slice(-3000)
      },
      async settledRssBytes() {
        hub.child.kill('SIGUSR2')
        await new Promise((r) => setTimeout(r, 1000))
        const m = [...stderr.matchAll(/fuzz-memory (\{.*\})/g)].at(-1)
        if (m) process.env.FUZZ_DEBUG && console.log(`hub memory after GC: ${m[1]}`)
        return world.rssBytes()
      },
      rssBytes: () => {
        let status = ''
        try {
          status = readFileSync(`/proc/${hub.child.pid}/status`, 'utf8')
        } catch {
          return NaN
        }
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
        return kb * 1024
      },
      async close() {
        stopping = true
        for (const fn of cleanups) {
          try {
            await fn()
          } catch {
            // best effort: the hub is killed last in any case
          }
        }
      },
    }
    return world
  } catch (error) {
    for (const fn of cleanups) await Promise.resolve(fn()).catch(() => {})
    throw error
  }
}

/** Fields that move with the clock or with a dispenser's own heartbeat, not with anyone's input. */
const CLOCK_FIELDS = new Set(['last_seen', 'uptime_s', 'timestamp'])

export interface Snapshot {
  sessions: string
  machines: string
}

/** Sessions of the booked days (and today) and every machine but the attacker's own, as stable JSON. */
export async function snapshot(world: World): Promise<Snapshot> {
  const days = [world.ctx.now, world.ctx.window[0], world.ctx.window[0] + DAY].map(utcDay)
  const sessions: unknown[] = []
  for (const day of days) {
    const r = await world.admin('GET', `/api/sessions?date=${day}`)
    if (r.status !== 200) throw new Error(`snapshot: GET /api/sessions?date=${day} answered ${r.status}`)
    sessions.push(r.json)
  }
  for (const id of world.ctx.foreignSessionIds) sessions.push((await world.admin('GET', `/api/sessions/${id}`)).json)
  const r = await world.admin('GET', '/api/machines')
  if (r.status !== 200) throw new Error(`snapshot: GET /api/machines answered ${r.status}`)
  const machines = (r.json as Array<Record<string, unknown>>)
    .filter((m) => !ATTACKER_MACHINES.includes(m.machine_id as number))
    .map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => !CLOCK_FIELDS.has(k))))
  return { sessions: JSON.stringify(sessions, null, 1), machines: JSON.stringify(machines, null, 1) }
}

/** The first differing lines of two snapshots, for a failure message. */
export function diffLines(before: string, after: string, max = 12): string[] {
  const a = before.split('\n')
  const b = after.split('\n')
  const out: string[] = []
  for (let i = 0; i < Math.max(a.length, b.length) && out.length < max; i++) {
    if (a[i] !== b[i]) out.push(`line ${i + 1}: ${JSON.stringify(a[i] ?? null)} -> ${JSON.stringify(b[i] ?? null)}`)
  }
  return out
}
