/**
 * The host-built dispenser core (esp32/host/virtual_dispenser) against a real Aedes broker and
 * a real MQTT client playing the hub: what goes over the wire is checked with the hub's own
 * TypeBox schemas (src/protocol/messages.ts), so the C++ side cannot drift from the contract.
 * Real time is unavoidable here (a separate process); deadlines are 2 s with generous waits.
 */
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Aedes } from 'aedes'
import mqtt, { type MqttClient } from 'mqtt'
import t, { type Test } from 'tap'
import { decoderFor } from '../../src/protocol/codec.js'
import { MachineConfirmation, MachineReport, type MachineControl } from '../../src/protocol/messages.js'
import { Topics, machineTopic } from '../../src/protocol/topics.js'
import { buildDir, buildVirtualDispenser, startVirtualDispenser, type VirtualDispenser, firmwareSkipReason } from './virtual.js'

const skip = firmwareSkipReason()
if (skip) t.comment(skip)

const ID = 3
const PASSWORD = 'pw-3'
const decodeReport = decoderFor(MachineReport)
const decodeConfirmation = decoderFor(MachineConfirmation)

// Built once for every test below (none runs when the tools are missing).
const binary = skip ? '' : await buildVirtualDispenser(await buildDir(t))

interface ConnectSeen {
  clientId: string
  keepalive: number
  clean: boolean
  username?: string
  password?: string
}

interface World {
  port: number
  connects: ConnectSeen[]
  hub: MqttClient
  inbox: Array<Record<string, unknown>>
  dispenser: VirtualDispenser
  waitMessage(match: (m: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>
  closeBroker(): Promise<void>
}

async function setup(t: Test): Promise<World> {
  const connects: ConnectSeen[] = []
  const broker = await Aedes.createBroker({
    preConnect(_client, packet, done) {
      connects.push({
        clientId: packet.clientId,
        keepalive: packet.keepalive ?? -1,
        clean: packet.clean ?? false,
        username: packet.username,
        password: packet.password?.toString(),
      })
      done(null, true)
    },
  })
  const sockets = new Set<Socket>()
  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    broker.handle(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  let brokerOpen = true
  const closeBroker = async () => {
    if (!brokerOpen) return
    brokerOpen = false
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await new Promise<void>((resolve) => broker.close(() => resolve()))
  }

  const hub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'hub-under-test', reconnectPeriod: 0 })
  const inbox: Array<Record<string, unknown>> = []
  const waiters = new Set<() => void>()
  hub.on('message', (_topic, payload) => {
    inbox.push(JSON.parse(payload.toString()) as Record<string, unknown>)
    for (const w of [...waiters]) w()
  })
  await hub.subscribeAsync(Topics.machineHandler, { qos: 1 })
  const waitMessage = (match: (m: Record<string, unknown>) => boolean, timeoutMs: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = inbox.length
      const check = () => {
        const found = inbox.slice(seen).find(match)
        if (!found) return
        clearTimeout(timer)
        waiters.delete(check)
        resolve(found)
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no matching message in ${timeoutMs} ms: ${JSON.stringify(inbox)}`))
      }, timeoutMs)
      waiters.add(check)
    })

  const firstReport = waitMessage((m) => m.machine_id === ID && !('success' in m), 20_000)
  const dispenser = startVirtualDispenser({ binary, id: ID, port, username: 'machine_003', password: PASSWORD })
  t.teardown(async () => {
    await dispenser.stop()
    await hub.endAsync(true)
    await closeBroker()
  })
  await firstReport
  return { port, connects, hub, inbox, dispenser, waitMessage, closeBroker }
}

function control(status: MachineControl['status'], sessionId: number | null, seconds: number | null, exchangeId: number): MachineControl {
  const now = Date.now() / 1000
  return {
    machine_id: ID,
    session_id: sessionId,
    status,
    scheduled_until: seconds === null ? null : now + seconds,
    timestamp: now,
    exchange_id: exchangeId,
    origin_node: 'machine_handler',
    destination_node: 'machine_003',
  }
}

t.test('connects with clean session and keep-alive 10 and reports in the contract shape', { skip: skip ?? false }, async (t) => {
  const w = await setup(t)
  t.match(w.connects.find((c) => c.clientId === 'machine_003'), { clientId: 'machine_003', keepalive: 10, clean: true, username: 'machine_003', password: PASSWORD })
  const report = decodeReport.check(w.inbox[0])
  t.ok(report.ok, `first report matches MachineReport: ${JSON.stringify(w.inbox[0])}`)
  t.match(w.inbox[0], { machine_id: ID, status: 'idle', ball_level: 'full', session_id: null, scheduled_until: null, origin_node: 'machine_003', ip_address: '127.0.0.1' })
  const asked = w.waitMessage((m) => !('success' in m), 10_000)
  await w.hub.publishAsync(machineTopic(ID), JSON.stringify({ request_type: 'machine', request_id: 9, machine_id: ID }), { qos: 1 })
  t.ok(decodeReport.check(await asked).ok, 'Request machine -> report now')
})

t.test('control -> output on + Confirmation; off at scheduled_until', { skip: skip ?? false }, async (t) => {
  const w = await setup(t)
  const confirmed = w.waitMessage((m) => m.exchange_id === 41, 10_000)
  await w.hub.publishAsync(machineTopic(ID), JSON.stringify(control('active', 812, 2, 41)), { qos: 1 })
  const confirmation = await confirmed
  t.ok(decodeConfirmation.check(confirmation).ok, 'Confirmation matches MachineConfirmation')
  t.match(confirmation, { success: true, exchange_id: 41, session_id: 812, status: 'active', origin_node: 'machine_003', destination_node: 'machine_handler' })
  const on = await w.dispenser.waitFor((e) => e.event === 'output' && e.on === true, 10_000)
  t.match(on, { reason: 'control', session_id: 812 })
  const report = await w.waitMessage((m) => m.status === 'idle' && !('success' in m), 20_000)
  t.ok(decodeReport.check(report).ok, 'the idle report matches MachineReport')
  const off = await w.dispenser.waitFor((e) => e.event === 'output' && e.on === false, 1_000)
  t.match(off, { reason: 'deadline', session_id: 812 })
  const heldMs = Number(off.mono_ms) - Number(on.mono_ms)
  t.ok(heldMs >= 1_900 && heldMs < 10_000, `held about 2 s on the monotonic clock (${heldMs} ms)`)
})

t.test('with the broker gone mid-session the output still turns off at scheduled_until', { skip: skip ?? false }, async (t) => {
  const w = await setup(t)
  const confirmed = w.waitMessage((m) => m.exchange_id === 5, 10_000)
  await w.hub.publishAsync(machineTopic(ID), JSON.stringify(control('active', 77, 3, 5)), { qos: 1 })
  await confirmed
  const on = await w.dispenser.waitFor((e) => e.event === 'output' && e.on === true, 10_000)
  const from = w.dispenser.events.length
  await w.closeBroker()
  await w.dispenser.waitFor((e) => e.event === 'link_down', 10_000, from)
  const off = await w.dispenser.waitFor((e) => e.event === 'output' && e.on === false, 20_000, from)
  t.match(off, { reason: 'deadline', session_id: 77 })
  t.ok(Number(off.mono_ms) - Number(on.mono_ms) >= 2_900, 'not before the deadline')
})

t.test('malformed controls are refused naming the field and change nothing', { skip: skip ?? false }, async (t) => {
  const w = await setup(t)
  const refusals = [
    { payload: 'not json', message: '(payload): payload is not valid JSON' },
    { payload: JSON.stringify({ ...control('active', 8, 60, 61), status: 'dancing' }), message: 'status: must be one of idle, active, maintenance' },
    { payload: JSON.stringify({ ...control('active', 8, 60, 62), machine_id: 4 }), message: 'machine_id: 4 is not this machine (3)' },
    { payload: JSON.stringify({ ...control('active', 8, 60, 63), scheduled_until: 'later' }), message: 'scheduled_until: must be epoch seconds or null' },
  ]
  for (const r of refusals) {
    const answer = w.waitMessage((m) => m.success === false, 10_000)
    await w.hub.publishAsync(machineTopic(ID), r.payload, { qos: 1 })
    const reply = await answer
    t.equal(reply.message, r.message)
    t.match(reply, { success: false, origin_node: 'machine_003', destination_node: 'machine_handler' })
  }
  t.notOk(w.dispenser.events.some((e) => e.event === 'output' && e.on === true), 'the output never turned on')
  // A hub reply (has `success`) is not answered: no ping-pong.
  const before = w.inbox.length
  await w.hub.publishAsync(machineTopic(ID), JSON.stringify({ success: false, message: 'x', machine_id: ID }), { qos: 1 })
  const asked = w.waitMessage(() => true, 10_000)
  await w.hub.publishAsync(machineTopic(ID), JSON.stringify({ request_type: 'machine' }), { qos: 1 })
  await asked
  t.equal(w.inbox.length, before + 1, 'only the requested report came back')
})
