/**
 * Scheduling benchmarks (issue: conflict-free bay sessions).
 *
 *   npm run bench -- changeover [bays=1000]      (default mode: changeover)
 *   npm run bench -- changeover bookings [count=2000]
 *   npm run bench -- changeover activation [bays=1000]
 *
 * changeover: the whole hub in-process with `bays` simulated dispensers over loopback MQTT.
 *   1. bookings/s with durable confirmation over MQTT: kiosk clients publish Sessions on
 *      internal/manager and wait for each Confirmation on internal/kiosk; 1 client, then 8;
 *   2. one session per bay, all starting in the same second: lateness from start_time to the
 *      durable 'activated' event and to each machine's Confirmation of `active`, p50/p99/max.
 * bookings: the same bookings/s through the module alone (no MQTT), group commit on and off.
 * activation: the module alone: start_time -> 'activated' for `bays` sessions in one second.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import mqtt, { type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { createCredentialStore } from '../../src/broker/index.js'
import { credentialsPath, hashSecret, readCredentials, writeCredentials } from '../../src/broker/credentials.js'
import { loadConfig } from '../../src/config/index.js'
import { createHub, type Hub } from '../../src/hub.js'
import { systemClock } from '../../src/lib/clock.js'
import { EventBus } from '../../src/lib/event-bus.js'
import type { HubEvents } from '../../src/protocol/events.js'
import { Topics } from '../../src/protocol/topics.js'
import { createScheduling, type StoredSession } from '../../src/scheduling/index.js'
import type { Scheduling } from '../../src/scheduling/types.js'
import { createSimulator } from '../../src/simulator/index.js'
import { percentile, printComparison } from './lib/stats.js'

const log = pino({ level: 'silent' })
const SESSION_S = 600

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  const r = (n: number) => Math.round(n * 10) / 10
  return { p50Ms: r(percentile(sorted, 50)), p99Ms: r(percentile(sorted, 99)), maxMs: r(sorted.at(-1) ?? NaN) }
}

/** `clients` loops, each awaiting its confirmation before the next of `total` bookings. */
async function drive(total: number, clients: number, book: (i: number, client: number) => Promise<void>) {
  const latencies: number[] = []
  let next = 0
  const client = async (_: unknown, c: number) => {
    for (let i = next++; i < total; i = next++) {
      const t0 = performance.now()
      await book(i, c)
      latencies.push(performance.now() - t0)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: clients }, client))
  return { clients, bookings: total, perSecond: Math.round(total / ((performance.now() - started) / 1000)), ...summary(latencies) }
}

/** Bookings that always fit: bay i % bays, consecutive slots from `base`. */
const bookingFor = (i: number, bays: number, base: number) => ({
  machine_id: 1 + (i % bays),
  status: 'reserved' as const,
  start_time: base + Math.floor(i / bays) * SESSION_S,
  duration: SESSION_S,
})

function openModule(bays: number, maxBatch?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scheduling-'))
  const db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  const config = loadConfig({ HUB_MACHINES: `1-${bays}`, HUB_TIMEZONE: 'UTC', HUB_LOG_LEVEL: 'silent' })
  const events = new EventBus<HubEvents>(log)
  const store = db.sublevel<string, StoredSession>('sessions', { valueEncoding: 'json' })
  const scheduling = createScheduling({ config, clock: systemClock, events, store, log, ...(maxBatch ? { maxBatch } : {}) })
  const close = async () => {
    await scheduling.stop()
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return { scheduling, events, close }
}

async function submitOrThrow(scheduling: Scheduling, session: ReturnType<typeof bookingFor>) {
  const r = await scheduling.submit(session, { origin: 'kiosk_interface' })
  if (!r.ok) throw new Error(`booking refused: ${r.message}`)
}

async function moduleBookings(total: number) {
  for (const maxBatch of [256, 1]) {
    for (const clients of [1, 8]) {
      const { scheduling, close } = openModule(1000, maxBatch)
      await scheduling.start()
      const base = Math.ceil(Date.now() / 1000) + 3600
      const result = await drive(total, clients, (i) => submitOrThrow(scheduling, bookingFor(i, 1000, base)))
      const { batches } = scheduling.stats()
      await close()
      console.log(JSON.stringify({ bench: 'bookings (module)', groupCommit: maxBatch > 1, ...result, syncedBatches: batches }))
    }
  }
}

/** start_time -> event time for one session per bay, all starting in the same second. */
async function changeoverLateness(scheduling: Scheduling, events: EventBus<HubEvents>, bays: number, withMachines: boolean) {
  const start = Math.ceil(Date.now() / 1000) + 5
  const activated: number[] = []
  const confirmed: number[] = []
  const want = withMachines ? 2 * bays : bays
  const done = new Promise<void>((resolve) => {
    const check = () => activated.length + confirmed.length >= want && resolve()
    events.on('session.changed', 'bench', (e) => {
      if (e.change === 'activated' && e.session.start_time === start) activated.push(Date.now() - start * 1000)
      check()
    })
    events.on('command.confirmed', 'bench', ({ command }) => {
      if (command.status === 'active' && command.scheduled_until === start + SESSION_S) confirmed.push(Date.now() - start * 1000)
      check()
    })
  })
  await Promise.all(Array.from({ length: bays }, (_, i) => submitOrThrow(scheduling, bookingFor(i, bays, start))))
  await done
  events.off('bench')
  return { sessions: bays, activated: summary(activated), ...(withMachines ? { machineConfirmed: summary(confirmed) } : {}) }
}

async function kioskClients(url: string, count: number): Promise<MqttClient[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const client = await mqtt.connectAsync(url, { clientId: `bench-kiosk-${i}`, username: 'kiosk_interface', password: 'bench-kiosk', reconnectPeriod: 0 })
      // A kiosk app should do the same: with Nagle on, a PUBLISH right after a PUBACK waits ~40 ms
      // for the delayed ACK (the hub's listener sets noDelay on its side, DESIGN §7).
      ;(client.stream as Partial<Socket>).setNoDelay?.(true)
      await client.subscribeAsync(Topics.kiosk, { qos: 1 })
      return client
    }),
  )
}

/** Bookings over MQTT: each waits for its Confirmation (sent after the durable write). */
async function mqttBookings(clients: MqttClient[], total: number, bays: number, base: number) {
  const waiting = new Map<number, (ok: boolean) => void>()
  const onMessage = (_topic: string, payload: Buffer) => {
    const m = JSON.parse(payload.toString()) as { exchange_id?: number; success?: boolean }
    if (m.exchange_id !== undefined) waiting.get(m.exchange_id)?.(m.success === true)
  }
  for (const c of clients) c.on('message', onMessage)
  const result = await drive(total, clients.length, async (i, c) => {
    const exchangeId = base + i
    const confirmed = new Promise<boolean>((resolve) => waiting.set(exchangeId, resolve))
    const session = { ...bookingFor(i, bays, base), exchange_id: exchangeId, origin_node: 'kiosk_interface' }
    await clients[c]!.publishAsync(Topics.manager, JSON.stringify(session), { qos: 1 })
    if (!(await confirmed)) throw new Error(`booking ${i} refused`)
    waiting.delete(exchangeId)
  })
  for (const c of clients) c.off('message', onMessage)
  return result
}

async function hubChangeover(bays: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-changeover-'))
  const file = readCredentials(credentialsPath(dataDir))
  file.nodes.kiosk_interface = { ...(await hashSecret('bench-kiosk')), role: 'kiosk' }
  writeCredentials(credentialsPath(dataDir), file)
  const config = loadConfig({ HUB_DATA_DIR: dataDir, HUB_MACHINES: `1-${bays}`, HUB_MQTT_PORT: '0', HUB_HTTP_PORT: '0', HUB_TIMEZONE: 'UTC', HUB_LOG_LEVEL: 'silent' })
  const credentials = createCredentialStore({ dataDir })
  const hub: Hub = await createHub({ config, log, credentials })
  const url = `mqtt://127.0.0.1:${hub.ports.mqtt}`
  const sim = createSimulator({ url, ids: config.machineIds, credentials: (id) => ({ username: `machine_${id}`, password: credentials.issueEphemeralMachineSecret(id) }) })
  await sim.start()
  while (hub.machines.stats().online < bays) await new Promise((r) => setTimeout(r, 20))
  await new Promise((r) => setTimeout(r, 3000)) // connect-time reconcile and first reports settle
  const clients = await kioskClients(url, 8)
  const base = Math.ceil(Date.now() / 1000) + 3600
  const one = await mqttBookings(clients.slice(0, 1), 1000, bays, base)
  const eight = await mqttBookings(clients, 1000, bays, base + 10_000)
  await Promise.all(clients.map((c) => c.endAsync()))
  const changeover = await changeoverLateness(hub.scheduling, hub.events, bays, true)
  await sim.stop()
  await hub.close()
  rmSync(dataDir, { recursive: true, force: true })
  return { one, eight, changeover }
}

/** The whole-hub run at `bays` against a 100-bay reference in the same invocation. */
async function compareChangeover(bays: number) {
  const ref = await hubChangeover(100)
  const big = await hubChangeover(bays)
  const rows: Array<[string, number, number]> = [
    ['bookings/s over MQTT, 1 client', ref.one.perSecond, big.one.perSecond],
    ['  confirmation p99 (ms), 1 client', ref.one.p99Ms, big.one.p99Ms],
    ['bookings/s over MQTT, 8 clients', ref.eight.perSecond, big.eight.perSecond],
    ['  confirmation p99 (ms), 8 clients', ref.eight.p99Ms, big.eight.p99Ms],
    ['start_time -> activated p50 (ms)', ref.changeover.activated.p50Ms, big.changeover.activated.p50Ms],
    ['start_time -> activated max (ms)', ref.changeover.activated.maxMs, big.changeover.activated.maxMs],
  ]
  const machine = (c: typeof ref.changeover) => c.machineConfirmed ?? { p50Ms: NaN, p99Ms: NaN, maxMs: NaN }
  rows.push(
    ['start_time -> machine Confirmation p50 (ms)', machine(ref.changeover).p50Ms, machine(big.changeover).p50Ms],
    ['start_time -> machine Confirmation p99 (ms)', machine(ref.changeover).p99Ms, machine(big.changeover).p99Ms],
    ['start_time -> machine Confirmation max (ms)', machine(ref.changeover).maxMs, machine(big.changeover).maxMs],
  )
  printComparison(`changeover: every bay's session starts in the same second (whole hub, simulated dispensers)`, ['100', String(bays)], rows)
}

async function main() {
  const [first, second] = process.argv.slice(2)
  const mode = first && !/^\d+$/.test(first) ? first : 'changeover'
  const count = Number((mode === first ? second : first) ?? (mode === 'bookings' ? 2000 : 1000))
  console.log(`${mode} benchmark (${count}); node ${process.version}`)
  if (mode === 'bookings') return moduleBookings(count)
  if (mode === 'activation') {
    const { scheduling, events, close } = openModule(count)
    await scheduling.start()
    console.log(JSON.stringify({ bench: 'activation (module)', ...(await changeoverLateness(scheduling, events, count, false)) }))
    return close()
  }
  if (mode === 'changeover') return compareChangeover(count)
  throw new Error(`unknown mode ${mode} (changeover | bookings | activation)`)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
