/**
 * The machines module on the real embedded broker (port 0) with real MQTT clients acting as
 * dispensers: presence from the broker's own events (DESIGN §4), commands with Confirmation,
 * retries and the alert on internal/admin (DESIGN §5). Real time here: keep-alive is real.
 */
import t, { type Test } from 'tap'
import { connect as tcpConnect, type Socket } from 'node:net'
import { join } from 'node:path'
import { Level } from 'level'
import mqttPacket from 'mqtt-packet'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import { createAdminFeed } from '../../src/interfaces/mqtt/admin-feed.js'
import { systemClock } from '../../src/lib/clock.js'
import { EventBus } from '../../src/lib/event-bus.js'
import { createMachines, type MachineDb } from '../../src/machines/index.js'
import type { Machines } from '../../src/machines/types.js'
import type { HubEvents } from '../../src/protocol/events.js'
import { Topics, machineTopic } from '../../src/protocol/topics.js'
import { addMachine, addNode, startTestBroker, type TestBroker } from '../helpers/broker.js'

const log = pino({ level: 'silent' })

interface World {
  b: TestBroker
  machines: Machines
  confirmed: Array<HubEvents['command.confirmed']>
  sent: Array<HubEvents['command.sent']>
}

async function world(t: Test): Promise<World> {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  await addMachine(dir, 2, 's2')
  await addNode(dir, 'admin_portal', 'admin', 'as')
  // 200 ms command timeout: three tries end after 0.2 + 0.4 + 0.8 s instead of 14 s.
  const b = await startTestBroker(dir, { HUB_MACHINES: '1-3', HUB_COMMAND_TIMEOUT_MS: '200' })
  const db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  const store: MachineDb = db.sublevel<string, unknown>('machines', { valueEncoding: 'json' })
  const events = new EventBus<HubEvents>(log)
  const confirmed: World['confirmed'] = []
  events.on('command.confirmed', 'test', (e) => void confirmed.push(e))
  const sent: World['sent'] = []
  events.on('command.sent', 'test', (e) => void sent.push(e))
  const machines = createMachines({ config: b.config, clock: systemClock, events, broker: b.broker, store, log, desiredStateFor: () => undefined })
  await machines.start()
  const feed = createAdminFeed({ broker: b.broker, events, clock: systemClock, log })
  t.teardown(async () => {
    feed.stop()
    await machines.stop()
    await b.close()
    await db.close()
  })
  return { b, machines, confirmed, sent }
}

/** A dispenser on a real MQTT connection; it confirms controls unless told not to. */
async function dispenser(b: TestBroker, id: number, secret: string, confirm: boolean) {
  const client = await b.connect({ clientId: `machine_00${id}`, username: `machine_${id}`, password: secret, keepalive: 5, clean: true })
  const controls: Array<Record<string, unknown>> = []
  client.on('message', (_topic, payload) => {
    const control = JSON.parse(payload.toString()) as Record<string, unknown>
    controls.push(control)
    if (confirm && typeof control.exchange_id === 'number' && !('success' in control)) {
      client.publish(Topics.machineHandler, JSON.stringify({ success: true, exchange_id: control.exchange_id, status: control.status, machine_id: id }), { qos: 1 })
    }
  })
  await client.subscribeAsync(machineTopic(id), { qos: 1 })
  // like the firmware: subscribe, then report on connect
  await client.publishAsync(Topics.machineHandler, JSON.stringify({ machine_id: id, status: 'idle', ball_level: 'full', scheduled_until: null, session_id: null }), { qos: 1 })
  return { client, controls }
}

const until = async (what: string, cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

t.test('presence and a confirmed command: connect, clean disconnect, dropped socket', async (t) => {
  const w = await world(t)
  const d = await dispenser(w.b, 1, 's1', true)
  await until('online', () => w.machines.get(1)?.online === true)
  await until('confirmed', () => w.confirmed.some((e) => e.command.machine_id === 1))
  t.match(w.machines.get(1), { status: 'idle', online: true, error: null, offline_reason: null })
  t.ok(d.controls.some((c) => c.status === 'idle' && c.destination_node === 'machine_001'), 'the required state was sent on connect')
  t.equal(w.sent.filter((e) => e.command.machine_id === 1).length, 1, 'confirmed at the first try (no retry needed)')
  t.comment(`connect-time command confirmed after ${w.confirmed[0]?.latencyMs} ms`)

  await d.client.endAsync()
  await until('offline after a clean disconnect', () => w.machines.get(1)?.online === false)
  t.match(w.machines.get(1), { status: 'offline', offline_reason: 'disconnected' })

  const again = await dispenser(w.b, 1, 's1', true)
  await until('online again', () => w.machines.get(1)?.online === true)
  t.equal(w.machines.alerts().find((a) => a.kind === 'offline')?.cleared_at !== null, true, 'offline alert cleared')
  ;(again.client.stream as unknown as Socket).destroy()
  await until('offline after a dropped socket', () => w.machines.get(1)?.online === false)
  t.match(w.machines.get(1), { status: 'offline', offline_reason: 'connection lost' })
  t.match(w.machines.alerts().filter((a) => a.cleared_at === null), [{ kind: 'offline', machine_id: 1 }])
})

t.test('a silent dispenser is offline within 1.5 x its keep-alive', async (t) => {
  const w = await world(t)
  const keepalive = 2
  // Raw MQTT: a CONNECT and then nothing, not even PINGREQ (mqtt.js would keep pinging).
  const socket = tcpConnect(w.b.broker.ports.mqtt, '127.0.0.1')
  t.teardown(() => socket.destroy())
  socket.on('error', () => undefined)
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'machine_002', keepalive, username: 'machine_2', password: Buffer.from('s2') }))
  await until('online', () => w.machines.get(2)?.online === true)
  const since = Date.now()
  await until('offline', () => w.machines.get(2)?.online === false, 15_000)
  const elapsed = Date.now() - since
  t.comment(`offline after ${elapsed} ms of silence (keep-alive ${keepalive} s, limit ${1.5 * keepalive * 1000} ms)`)
  t.match(w.machines.get(2), { status: 'offline', offline_reason: 'keep-alive expired' })
  // Margin for a loaded CI machine: the broker's own check fires at 1.5 x keep-alive.
  t.ok(elapsed <= 1.5 * keepalive * 1000 + 1500, `within 1.5 x keep-alive (+ margin): ${elapsed} ms`)
})

t.test('no Confirmation: three tries, then error and a command_failed alert on internal/admin', async (t) => {
  const w = await world(t)
  const admin = await w.b.connect({ clientId: 'admin_1', username: 'admin_portal', password: 'as', keepalive: 30 })
  const seen: Array<Record<string, unknown>> = []
  admin.on('message', (_topic, payload) => void seen.push(JSON.parse(payload.toString()) as Record<string, unknown>))
  await admin.subscribeAsync(Topics.admin, { qos: 1 })

  const ok = await dispenser(w.b, 1, 's1', true)
  await until('machine 1 Confirmation on internal/admin', () => seen.some((p) => p.success === true && p.machine_id === 1))
  t.match(seen.find((p) => p.success === true), { origin_node: 'machine_001', destination_node: 'admin_portal', status: 'idle' })

  const mute = await dispenser(w.b, 2, 's2', false)
  await until('failure on internal/admin', () => seen.some((p) => p.success === false && p.machine_id === 2))
  await until('alert on internal/admin', () => seen.some((p) => p.event === 'alert.raised' && p.kind === 'command_failed'))
  t.match(seen.find((p) => p.success === false), { machine_id: 2, status: 'idle', message: /^machine 2: no confirmation after 3 tries/ })
  t.match(seen.find((p) => p.event === 'alert.raised' && p.kind === 'command_failed'), { machine_id: 2 })
  t.match(w.machines.get(2), { status: 'error', online: true })
  // 3 tries; plus one repeat at its report on connect when the first send beat its subscription
  t.ok(mute.controls.length >= 3 && mute.controls.length <= 4, `three tries received (${mute.controls.length} packets)`)
  t.equal(w.sent.filter((e) => e.command.machine_id === 2).map((e) => e.attempt).join(), '1,2,3', 'three sends in all')
  t.equal(new Set(mute.controls.map((c) => c.exchange_id)).size, 1, 'one exchange id')
  t.ok(seen.some((p) => p.machine_id === 2 && p.status === 'error' && p.online === true), 'machine.changed to error on internal/admin')
  await ok.client.endAsync()
  await mute.client.endAsync()
  await admin.endAsync()
})
