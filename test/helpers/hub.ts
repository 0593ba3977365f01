/**
 * A whole hub in-process on port 0 with a FakeClock for the schedule and command timers,
 * talking real MQTT over loopback. Credentials are written before start, as the CLI would.
 */
import type { Test } from 'tap'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/index.js'
import { createHub, type Hub } from '../../src/hub.js'
import { createSimulator, type Simulator, type Faults } from '../../src/simulator/index.js'
import { addApiToken } from './api-token.js'
import { addMachine, addNode } from './broker.js'
import { FakeClock } from './fake-clock.js'

export interface TestHub {
  hub: Hub
  clock: FakeClock
  dataDir: string
  url: string
  /** a node client (kiosk_interface / admin_portal / reservation_interface) */
  node(name: 'kiosk_interface' | 'admin_portal' | 'reservation_interface', options?: IClientOptions): Promise<MqttClient>
  simulate(ids: number[], faults?: (id: number) => Faults | undefined): Promise<Simulator>
  /** HTTP over a real socket with the admin token or a node's API token */
  api(as: 'admin' | 'kiosk_interface' | 'reservation_interface', method: string, path: string, body?: object): Promise<{ status: number; body: any }>
}

const ROLE = { kiosk_interface: 'kiosk', admin_portal: 'admin', reservation_interface: 'reservation' } as const

export async function startTestHub(t: Test, env: Record<string, string> = {}, clock = new FakeClock()): Promise<TestHub> {
  const dataDir = t.testdir()
  const config = loadConfig({ HUB_DATA_DIR: dataDir, HUB_MQTT_PORT: '0', HUB_HTTP_PORT: '0', HUB_TIMEZONE: 'UTC', HUB_MACHINES: '1-20', ...env })
  for (const id of config.machineIds.slice(0, 20)) await addMachine(dataDir, id, `secret-${id}`)
  for (const [name, role] of Object.entries(ROLE)) await addNode(dataDir, name, role, `secret-${name}`)
  const tokens: Record<string, string> = {}
  for (const name of ['kiosk_interface', 'reservation_interface'] as const) tokens[name] = addApiToken(dataDir, name, ROLE[name])
  // a synchronised clock unless a test says otherwise: no banner, no host commands run (issue 15)
  const timeSync = { read: async () => ({ synchronised: true, service: 'timesyncd' as const, detail: 'test: synchronised' }) }
  const hub = await createHub({ config, log: pino({ level: 'silent' }), clock, timeSync })
  const url = `mqtt://127.0.0.1:${hub.ports.mqtt}`
  const cleanup: Array<() => Promise<unknown>> = []
  t.teardown(async () => {
    for (const fn of cleanup.reverse()) await fn()
    await hub.close()
  })
  return {
    hub,
    clock,
    dataDir,
    url,
    async node(name, options = {}) {
      const client = mqtt.connect(url, { clientId: `${name}-${Math.random().toString(16).slice(2, 8)}`, username: name, password: `secret-${name}`, reconnectPeriod: 0, ...options })
      cleanup.push(() => client.endAsync(true))
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve())
        client.once('error', reject)
      })
      return client
    },
    async api(as, method, path, body) {
      const token = as === 'admin' ? hub.adminToken : tokens[as]!
      const res = await fetch(`http://127.0.0.1:${hub.ports.http}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body && { 'content-type': 'application/json' }) },
        ...(body && { body: JSON.stringify(body) }),
      })
      const text = await res.text()
      return { status: res.status, body: text ? JSON.parse(text) : null }
    },
    async simulate(ids, faults) {
      const sim = createSimulator({ url, ids, credentials: (id) => ({ username: `machine_${id}`, password: `secret-${id}` }), ...(faults ? { faults } : {}), reportIntervalMs: 60_000 })
      cleanup.push(() => sim.stop())
      await sim.start()
      return sim
    },
  }
}

/** Resolves with the first message on `topic` that satisfies `match`. */
export function nextMessage<T = Record<string, unknown>>(client: MqttClient, topic: string, match: (m: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage)
      reject(new Error(`no matching message on ${topic} within ${timeoutMs} ms`))
    }, timeoutMs)
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return
      let value: T
      try {
        value = JSON.parse(payload.toString()) as T
      } catch {
        return
      }
      if (!match(value)) return
      clearTimeout(timer)
      client.off('message', onMessage)
      resolve(value)
    }
    client.on('message', onMessage)
  })
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
