/**
 * The real hub (src/main.ts) as a child process, with the host-built virtual dispenser and a
 * real MQTT client as the admin node: the world of the firmware integration tests.
 * Ports are 0 and read from the hub's "hub ready" pino line; the data dir is a fresh temp dir.
 */
import { execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt, { type MqttClient } from 'mqtt'
import type { Test } from 'tap'
import type { SessionRecord } from '../../src/protocol/messages.js'
import { Topics } from '../../src/protocol/topics.js'
import { startHubProcess } from '../helpers/hub-process.js'
import { buildDir, buildVirtualDispenser, startVirtualDispenser, type VirtualDispenser } from './virtual.js'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const ADMIN_NODE = 'esp32_e2e_admin'

export interface HubChild {
  child: ChildProcess
  mqttPort: number
  logs: Array<Record<string, unknown>>
  kill(signal: NodeJS.Signals): Promise<void>
}

/** The hub's settings for these tests (CLI and hub read the same data dir). */
function hubSettings(dataDir: string): Record<string, string> {
  return {
    HUB_DATA_DIR: dataDir,
    HUB_MQTT_HOST: '127.0.0.1',
    HUB_HTTP_HOST: '127.0.0.1',
    HUB_MACHINES: '1-4',
    HUB_LOG_LEVEL: 'info',
    HUB_MQTT_ALLOW_ANONYMOUS: 'false',
  }
}

/** Runs the hub's credentials CLI on the data dir; returns the secret it prints (once). */
export function cli(dataDir: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const argv = ['--import', 'tsx', join(repoRoot, 'src', 'cli.ts'), ...args]
    execFile(process.execPath, argv, { cwd: repoRoot, env: { ...process.env, ...hubSettings(dataDir) } }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`cli ${args.join(' ')} failed: ${stderr || error.message}`))
      // "secret (shown once, not stored): <secret>"
      const secret = /^secret\b[^:]*:\s*(\S+)\s*$/m.exec(stdout)?.[1]
      if (!secret) return reject(new Error(`no secret in the cli output: ${stdout}`))
      resolve(secret)
    })
  })
}

/** `mqttPort` pins the listener (a restart on the port the dispenser knows); 0 picks a free one. */
export async function startHub(dataDir: string, timeoutMs = 60_000, mqttPort = 0): Promise<HubChild> {
  const hub = await startHubProcess({ ...hubSettings(dataDir), HUB_MQTT_PORT: String(mqttPort) }, timeoutMs)
  return {
    child: hub.child,
    mqttPort: hub.mqttPort,
    logs: hub.logs,
    async kill(signal) {
      await hub.kill(signal)
    },
  }
}

export interface Inbox {
  messages: Array<{ topic: string; body: Record<string, unknown>; atMs: number }>
  /** The first message (already received from index `from` on, or future) that matches. */
  waitFor(match: (body: Record<string, unknown>, topic: string) => boolean, timeoutMs: number, from?: number): Promise<Record<string, unknown>>
}

/** Collects every message the client receives; waitFor looks at past and future ones. */
export function inboxOf(client: MqttClient): Inbox {
  const messages: Inbox['messages'] = []
  const wakers = new Set<() => void>()
  client.on('message', (topic, payload) => {
    try {
      messages.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown>, atMs: Date.now() })
    } catch {
      return
    }
    for (const wake of [...wakers]) wake()
  })
  return {
    messages,
    waitFor: (match, timeoutMs, from = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.slice(from).find((m) => match(m.body, m.topic))
          if (!found) return false
          clearTimeout(timer)
          wakers.delete(check)
          resolve(found.body)
          return true
        }
        const timer = setTimeout(() => {
          wakers.delete(check)
          reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.body)).slice(0, 4000)}`))
        }, timeoutMs)
        if (!check()) wakers.add(check)
      }),
  }
}

export interface FirmwareWorld {
  hub: HubChild
  dispenser: VirtualDispenser
  admin: MqttClient
  inbox: Inbox
  /** Kills the hub (SIGKILL) if it still runs and starts it again on the same data dir and MQTT port. */
  restartHub(): Promise<HubChild>
}

/**
 * Hub + machine 1 provisioned with the CLI + the virtual dispenser connected + an admin node.
 * `maxOnSeconds` builds the dispenser with that device maximum (MAX_ON_SECONDS).
 */
export async function buildFirmwareWorld(t: Test, machineId = 1, opts: { maxOnSeconds?: number } = {}): Promise<FirmwareWorld> {
  // One teardown, run in reverse order of setup: dispenser, admin client, hub, then the data dir.
  const cleanups: Array<() => Promise<unknown>> = []
  t.teardown(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
  })
  const dataDir = await mkdtemp(join(tmpdir(), 'esp32-hub-'))
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
  // Credentials as an installer makes them: the machine's secret and an admin node's login.
  // The two CLI runs go one after the other: each rewrites credentials.json, so run together
  // the second could drop what the first added.
  const credentials = (async () => {
    const machine = await cli(dataDir, ['machine', 'add', String(machineId)])
    const node = await cli(dataDir, ['node', 'add', ADMIN_NODE, '--role', 'admin'])
    return [machine, node] as const
  })()
  const [binary, [secret, adminSecret]] = await Promise.all([buildDir(t).then((dir) => buildVirtualDispenser(dir, opts.maxOnSeconds)), credentials])
  // Generous: several hubs start side by side (tsx compiles each) on a shared, loaded machine.
  let hub = await startHub(dataDir, 120_000)
  cleanups.push(() => hub.kill('SIGKILL'))
  const admin = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, {
    clientId: ADMIN_NODE,
    username: ADMIN_NODE,
    password: adminSecret,
    reconnectPeriod: 0,
  })
  cleanups.push(() => admin.endAsync(true))
  const inbox = inboxOf(admin)
  await admin.subscribeAsync(Topics.admin, { qos: 1 })
  const dispenser = startVirtualDispenser({
    binary,
    id: machineId,
    port: hub.mqttPort,
    username: `machine_${String(machineId).padStart(3, '0')}`,
    password: secret,
  })
  cleanups.push(() => dispenser.stop())
  await dispenser.waitFor((e) => e.event === 'connected', 30_000)
  const world: FirmwareWorld = {
    hub,
    dispenser,
    admin,
    inbox,
    async restartHub() {
      await hub.kill('SIGKILL')
      hub = await startHub(dataDir, 120_000, hub.mqttPort)
      world.hub = hub
      return hub
    },
  }
  return world
}

export async function bookNow(w: FirmwareWorld, machineId: number): Promise<SessionRecord> {
  await w.admin.publishAsync(
    Topics.manager,
    JSON.stringify({ machine_id: machineId, status: 'reserved', start_time: Date.now() / 1000, duration: 60, request_id: machineId, origin_node: 'admin_portal', destination_node: 'schedule_manager' }),
    { qos: 1 },
  )
  const accepted = await w.inbox.waitFor((m) => m.success === true && m.origin_node === 'schedule_manager' && m.request_id === machineId, 20_000)
  const sessionId = accepted.session_id
  return (await w.inbox.waitFor((m) => m.session_id === sessionId && typeof m.end_time === 'number', 20_000)) as unknown as SessionRecord
}
