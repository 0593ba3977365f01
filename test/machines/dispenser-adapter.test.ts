/** external/handler: reports, and bad input answered on the machine's own topic without a state change (DESIGN §4). */
import t from 'tap'
import { machineTopic, Topics } from '../../src/protocol/topics.js'
import { FakeBroker } from '../helpers/fake-broker.js'
import { buildWorld, named, report } from './world.js'

const m4 = FakeBroker.machine(4)

t.test('a report updates state, history and ball alerts', async (t) => {
  const w = await buildWorld(t)
  w.autoConfirm(m4)
  w.broker.connect(m4)
  w.broker.inject(Topics.machineHandler, report(4, { ball_level: 'low' }), m4)
  await w.idle()
  t.match(w.machines.get(4), { status: 'idle', online: true, ball_level: 'low', firmware: '1.0.0', ip_address: '192.168.4.24', rssi: -61, uptime_s: 3600, last_seen: w.clock.nowSeconds() })
  t.equal(w.machines.history(4).length, 1)
  t.match(named(w, 'alert.raised').map((e) => e.alert), [{ kind: 'ball_low', machine_id: 4, message: 'machine 4 ball level is low' }])
  for (let i = 0; i < 3; i++) {
    w.broker.inject(Topics.machineHandler, report(4, { ball_level: 'low', rssi: -60 - i, uptime_s: 3630 + 30 * i }), m4)
    await w.idle(30_000)
  }
  t.equal(named(w, 'alert.raised').length, 1, 'raised once per crossing')
  t.equal(w.machines.history(4).length, 4)
  t.equal(w.machines.get(4)?.rssi, -62)
  w.broker.inject(Topics.machineHandler, report(4, { ball_level: 'full' }), m4)
  await w.idle()
  t.match(named(w, 'alert.cleared').map((e) => e.alert), [{ kind: 'ball_low', machine_id: 4 }])
  t.match(w.machines.alerts().filter((a) => a.cleared_at === null), [])
  t.same(w.machines.history(99), [])
})

t.test('identical heartbeats do not write; a meaningful change does', async (t) => {
  const w = await buildWorld(t)
  w.autoConfirm(m4)
  w.broker.connect(m4)
  await w.idle()
  w.broker.inject(Topics.machineHandler, report(4), m4)
  await w.idle()
  const before = w.writes.count
  const changes = named(w, 'machine.changed').length
  for (let i = 1; i <= 10; i++) {
    w.broker.inject(Topics.machineHandler, report(4, { uptime_s: 3600 + 30 * i, rssi: -60 - (i % 3) }), m4)
    await w.idle(30_000)
  }
  t.equal(w.writes.count, before, '10 heartbeats (5 min): no write')
  t.equal(named(w, 'machine.changed').length, changes, 'and no machine.changed')
  w.broker.inject(Topics.machineHandler, report(4, { ball_level: 'medium' }), m4)
  await w.idle()
  t.equal(w.writes.count, before + 1, 'ball level change written')
  t.equal(named(w, 'machine.changed').length, changes + 1)
})

t.test('bad payloads are answered on the machine topic naming the field, and change nothing', async (t) => {
  const w = await buildWorld(t)
  w.autoConfirm(m4)
  w.broker.connect(m4)
  w.broker.inject(Topics.machineHandler, report(4), m4)
  await w.idle()
  const before = JSON.stringify(w.machines.list())
  const history = w.machines.history(4).length
  w.broker.clear()
  const cases: Array<[string, object | string, RegExp]> = [
    ['not JSON', '{"machine_id": 4,', /^\(payload\)/],
    ['array', '[1,2]', /^\(payload\)/],
    ['missing ball_level', { machine_id: 4, status: 'idle' }, /^ball_level: is required/],
    ['unknown status', report(4, { status: 'dancing' }), /^status:/],
    ['wrong type', report(4, { rssi: 'strong' }), /^rssi:/],
    ['bad ball level', report(4, { ball_level: 'half' }), /^ball_level:/],
    ['confirmation without exchange_id', { success: true }, /^exchange_id: is required/],
    ['someone else', report(5), /^machine_id: 5 is not the sender \(machine 4\)/],
  ]
  for (const [, payload] of cases) w.broker.inject(Topics.machineHandler, payload, m4)
  await w.idle()
  const replies = w.broker.to(machineTopic(4))
  t.equal(replies.length, cases.length, 'one answer per bad message')
  cases.forEach(([name, , pattern], i) => {
    t.match(replies[i]?.payload, { success: false, machine_id: 4, message: pattern, origin_node: 'machine_handler', destination_node: 'machine_004' }, name)
  })
  t.equal(named(w, 'input.rejected').length, cases.length)
  t.equal(w.broker.to(machineTopic(5)).length, 0, 'nothing to the impersonated machine')
  t.equal(JSON.stringify(w.machines.list()), before, 'no state change')
  t.equal(w.machines.history(4).length, history)

  // a bad Confirmation echoes the exchange_id so the machine can match the refusal
  w.broker.inject(Topics.machineHandler, { success: 'yes', exchange_id: 41 }, m4)
  await w.idle()
  t.match(w.broker.to(machineTopic(4)).at(-1)?.payload, { success: false, exchange_id: 41, message: /^success:/ })
})

t.test('messages from nodes or unknown machines on external/handler are refused without a reply to them', async (t) => {
  const w = await buildWorld(t)
  w.broker.inject(Topics.machineHandler, report(4), FakeBroker.node('kiosk_interface', 'kiosk'))
  w.broker.inject(Topics.machineHandler, report(9), FakeBroker.machine(9))
  await w.idle()
  t.equal(w.broker.published.length, 0)
  t.equal(named(w, 'input.rejected').length, 2)
  t.equal(w.machines.get(4)?.reported_status, null)
  t.equal(w.machines.get(9), undefined)
})

t.test('in-process and anonymous dev clients named machine_N count as machine N', async (t) => {
  const w = await buildWorld(t)
  const dev = { kind: 'anonymous' as const, clientId: 'machine_2' }
  w.broker.connect(dev)
  w.broker.inject(Topics.machineHandler, report(2, { ball_level: 'medium' }), dev)
  w.broker.inject(Topics.machineHandler, report(1, { ball_level: 'urgent' }), null)
  await w.idle()
  t.match(w.machines.get(2), { online: true, ball_level: 'medium' })
  t.match(w.machines.get(1), { online: false, ball_level: 'urgent', status: 'offline' })
  t.match(w.machines.alerts(), [{ kind: 'ball_urgent', machine_id: 1 }])
})
