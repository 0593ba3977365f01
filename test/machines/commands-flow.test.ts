/** Commands with confirmation over the FakeBroker (DESIGN §5): confirm, retry, fail, refuse, abandon. */
import t from 'tap'
import { machineTopic, Topics } from '../../src/protocol/topics.js'
import { FakeBroker } from '../helpers/fake-broker.js'
import { buildWorld, named, report } from './world.js'

const m1 = FakeBroker.machine(1)

t.test('on connect the machine gets the required state; its Confirmation completes the command', async (t) => {
  const w = await buildWorld(t)
  const until = w.clock.nowSeconds() + 3600
  w.schedule.set(1, { status: 'active', session_id: 812, scheduled_until: until, source: 'schedule', holder: 'session 812' })
  w.broker.connect(m1)
  await w.idle(0)
  const sent = w.broker.to(machineTopic(1))
  t.equal(sent.length, 1)
  t.match(sent[0], { options: { qos: 1 }, payload: { machine_id: 1, status: 'active', session_id: 812, scheduled_until: until, origin_node: 'machine_handler', destination_node: 'machine_001' } })
  const exchangeId = sent[0]!.payload.exchange_id
  t.type(exchangeId, 'number')

  w.machines.reconcile([1]) // session.changed while in flight: identical command, not resent
  await w.idle(12)
  t.equal(w.broker.to(machineTopic(1)).length, 1, 'identical command in flight is not repeated')

  w.broker.inject(Topics.machineHandler, { success: true, session_id: 812, status: 'active', exchange_id: exchangeId, origin_node: 'machine_001', destination_node: 'machine_handler' }, m1)
  await w.idle(0)
  const [confirmed] = named(w, 'command.confirmed')
  t.equal(confirmed?.latencyMs, 12)
  t.equal(confirmed?.command.exchange_id, exchangeId)
  t.match(w.machines.get(1), { status: 'active', online: true, session_id: 812, error: null, desired: { source: 'schedule' } })
  t.match(w.machines.stats(), { online: 1, commandsSent: 1, commandsConfirmed: 1, commandsFailed: 0, recentLatenciesMs: [12] })

  await w.idle(30_000)
  t.equal(w.broker.to(machineTopic(1)).length, 1, 'no resend after the Confirmation')
  w.machines.reconcile([1])
  await w.idle(0)
  t.equal(w.broker.to(machineTopic(1)).length, 1, 'reconcile of a machine already in its state sends nothing')
})

t.test('no Confirmation: resent after 2 s and 4 s, then error, command_failed alert and command.failed', async (t) => {
  const w = await buildWorld(t)
  w.broker.connect(m1)
  await w.idle(0)
  const times = () => w.seen.filter((e) => e.name === 'command.sent').length
  t.equal(times(), 1)
  await w.idle(1999)
  t.equal(times(), 1, 'not before the timeout')
  await w.idle(1)
  t.equal(times(), 2, 'second try at 2 s')
  await w.idle(4000)
  t.equal(times(), 3, 'third try at 6 s')
  const sends = w.broker.to(machineTopic(1))
  t.equal(new Set(sends.map((p) => p.payload.exchange_id)).size, 1, 'one exchange id for every try')
  const stamps = sends.map((p) => p.payload.timestamp as number)
  t.same(stamps.map((s) => s - stamps[0]!), [0, 2, 6], 'each try carries the time it left, so the fail-safe deadline is not stretched')
  t.same(named(w, 'command.failed'), [])
  await w.idle(8000)
  t.equal(times(), 3, 'three tries in all')
  const [failed] = named(w, 'command.failed')
  t.match(failed, { reason: 'no confirmation after 3 tries (14.0 s)', command: { machine_id: 1, status: 'idle' } })
  t.match(w.machines.get(1), { status: 'error', online: true, error: /failed: no confirmation after 3 tries/ })
  const alerts = w.machines.alerts().filter((a) => a.kind === 'command_failed')
  t.equal(alerts.length, 1)
  t.match(alerts[0], { machine_id: 1, acknowledged: false, cleared_at: null, message: /machine 1 did not confirm idle/ })
  t.equal(named(w, 'alert.raised').filter((e) => e.alert.kind === 'command_failed').length, 1)
  t.match(w.machines.stats(), { commandsSent: 1, commandsFailed: 1 })


  // any later reconcile tries again (the error is cleared only by a Confirmation)
  w.machines.reconcile([1])
  await w.idle()
  t.equal(times(), 4, 'a machine in error is sent its state on the next reconcile')
  await w.idle(14_000)
  t.equal(named(w, 'alert.raised').filter((e) => e.alert.kind === 'command_failed').length, 1, 'still one open alert')

  // staff acknowledge; the next successful command clears error and alert
  const ack = await w.machines.acknowledgeAlert(alerts[0]!.alert_id)
  t.match(ack, { ok: true, value: { acknowledged: true } })
  // a repeat answers the same and writes nothing (a reference-compared record once made it a synced write each time)
  const writesBefore = w.writes.count
  t.match(await w.machines.acknowledgeAlert(alerts[0]!.alert_id), { ok: true, value: { acknowledged: true } })
  await w.idle(0)
  t.equal(w.writes.count, writesBefore, 'acknowledging again is no durable write')
  t.match(await w.machines.acknowledgeAlert('nope'), { ok: false, code: 'ALERT_UNKNOWN' })
  const override = await w.machines.override({ machine_id: 1, status: 'maintenance' }, { source: 'admin', node: 'admin_portal' })
  t.ok(override.ok)
  const last = w.broker.to(machineTopic(1)).at(-1)!
  t.equal(last.payload.status, 'maintenance')
  w.broker.inject(Topics.machineHandler, { success: true, exchange_id: last.payload.exchange_id, status: 'maintenance' }, m1)
  await w.idle(0)
  t.match(w.machines.get(1), { status: 'maintenance', error: null })
  t.equal(named(w, 'alert.cleared').filter((e) => e.alert.kind === 'command_failed').length, 1)
  t.match(w.machines.alerts().find((a) => a.kind === 'command_failed'), { cleared_at: w.clock.nowSeconds(), acknowledged: true })
})

t.test('a refusing Confirmation puts the machine in error with its message', async (t) => {
  const w = await buildWorld(t)
  w.broker.connect(m1)
  await w.idle(0)
  const sent = w.broker.to(machineTopic(1))[0]!
  w.broker.inject(Topics.machineHandler, { success: false, exchange_id: sent.payload.exchange_id, message: 'hopper motor jammed' }, m1)
  await w.idle(10_000)
  t.match(w.machines.get(1), { status: 'error', error: 'hopper motor jammed' })
  t.match(named(w, 'command.failed'), [{ reason: 'hopper motor jammed' }])
  t.match(w.machines.alerts(), [{ kind: 'error', machine_id: 1, message: /hopper motor jammed/ }])
  t.equal(w.broker.to(machineTopic(1)).length, 1, 'a refusal is not retried')
})

t.test('a command in flight when the machine drops is abandoned; reconnect brings it to the required state', async (t) => {
  const w = await buildWorld(t)
  w.broker.connect(m1)
  await w.idle(500)
  w.broker.disconnect(m1, 'keepalive')
  await w.idle(0)
  t.match(w.machines.get(1), { status: 'offline', online: false, offline_reason: 'keep-alive expired', last_seen: w.clock.nowSeconds() })
  t.match(w.machines.alerts(), [{ kind: 'offline', machine_id: 1, cleared_at: null, message: 'machine 1 is offline: keep-alive expired' }])
  await w.idle(60_000)
  t.equal(w.broker.to(machineTopic(1)).length, 1, 'no retries to an offline machine')
  t.same(named(w, 'command.failed'), [], 'abandoned, not failed')

  // while offline the schedule changes: nothing is queued for the machine
  const until = w.clock.nowSeconds() + 1800
  w.schedule.set(1, { status: 'active', session_id: 9, scheduled_until: until, source: 'schedule', holder: 'session 9' })
  w.machines.reconcile([1])
  await w.idle(0)
  t.equal(w.broker.to(machineTopic(1)).length, 1, 'never queued for an offline machine')
  t.match(w.machines.get(1)?.desired, { status: 'active', session_id: 9 })

  w.broker.connect(m1)
  await w.idle(0)
  const sends = w.broker.to(machineTopic(1))
  t.equal(sends.length, 2)
  t.match(sends[1]?.payload, { status: 'active', session_id: 9, scheduled_until: until })
  t.match(w.machines.get(1), { online: true, offline_reason: null })
  t.match(named(w, 'alert.cleared'), [{ alert: { kind: 'offline', machine_id: 1 } }])
})

t.test('a reconnect always resends the required state, even if the stored report matches', async (t) => {
  const w = await buildWorld(t)
  w.broker.connect(m1)
  await w.idle(0)
  const first = w.broker.to(machineTopic(1))[0]!
  w.broker.inject(Topics.machineHandler, { success: true, exchange_id: first.payload.exchange_id }, m1)
  w.broker.inject(Topics.machineHandler, report(1), m1)
  await w.idle(0)
  w.broker.disconnect(m1, 'dropped')
  w.broker.connect(m1)
  await w.idle(0)
  const sends = w.broker.to(machineTopic(1))
  t.equal(sends.length, 2, 'the machine may have rebooted: it gets the state again')
  t.not(sends[1]?.payload.exchange_id, first.payload.exchange_id, 'a fresh exchange id')
})

t.test('a takeover (same client id connecting again) resends at once and does not go offline', async (t) => {
  const w = await buildWorld(t)
  w.broker.connect(m1)
  await w.idle(500)
  w.broker.connect(m1) // the rebooted machine reconnects before the old socket is closed
  w.broker.disconnect(m1, 'takeover')
  await w.idle()
  const sends = w.broker.to(machineTopic(1))
  t.equal(sends.length, 2, 'sent again on the new connection')
  t.not(sends[1]?.payload.exchange_id, sends[0]?.payload.exchange_id)
  t.match(w.machines.get(1), { online: true })
  t.same(w.machines.alerts(), [])
})

t.test('the report on connect repeats a command that may have beaten the subscription', async (t) => {
  const w = await buildWorld(t)
  w.broker.connect(m1)
  await w.idle(100)
  w.broker.inject(Topics.machineHandler, report(1), m1)
  w.broker.inject(Topics.machineHandler, report(1), m1)
  await w.idle()
  const sends = w.broker.to(machineTopic(1))
  t.equal(sends.length, 2, 'repeated once, at the first report only')
  t.equal(sends[1]?.payload.exchange_id, sends[0]?.payload.exchange_id, 'same exchange id: the machine treats it as a resend')
  t.equal(named(w, 'command.sent').length, 1, 'not a new try')
  await w.idle(1900)
  t.equal(named(w, 'command.sent').length, 2, 'the retry timer is unchanged (2 s from the first send)')
})

t.test('the broker shutting down marks machines offline without alerts', async (t) => {
  const w = await buildWorld(t)
  w.broker.connect(m1)
  await w.idle()
  w.broker.disconnect(m1, 'shutdown')
  await w.idle()
  t.match(w.machines.get(1), { online: false, offline_reason: 'hub stopped' })
  t.same(w.machines.alerts(), [])
})

t.test('drive resolves once its controls are on the sockets (the broker publish settled), at once when it sent none', async (t) => {
  const w = await buildWorld(t)
  const m2 = FakeBroker.machine(2)
  w.broker.connect(m1)
  w.broker.connect(m2)
  w.autoConfirm(m1)
  w.autoConfirm(m2)
  await w.idle(0)
  const until = w.clock.nowSeconds() + 3600
  w.schedule.set(1, { status: 'active', session_id: 901, scheduled_until: until, source: 'schedule', holder: 'session 901' })
  // the broker holds every publish until the test lets it go, as a socket write still under way
  const held: Array<() => void> = []
  const publish = w.broker.publish.bind(w.broker)
  w.broker.publish = (topic, payload, options) => new Promise<void>((resolve) => held.push(() => void publish(topic, payload, options).then(resolve)))
  let driven = false
  const drive = w.machines.drive([1, 2]).then(() => void (driven = true))
  await w.idle(0)
  t.equal(held.length, 1, 'bay 1 is sent its control; bay 2 needs none')
  t.notOk(driven, 'not resolved while the control is not on its socket')
  held.shift()!()
  await drive
  t.ok(driven)
  t.match(w.broker.to(machineTopic(1)).at(-1), { payload: { status: 'active', session_id: 901 } })

  let nothing = false
  await w.machines.drive([2]).then(() => void (nothing = true))
  t.ok(nothing, 'nothing to send: resolved at once')
  t.equal(held.length, 0)

  w.broker.publish = () => Promise.reject(new Error('broker closed'))
  w.schedule.set(2, { status: 'active', session_id: 902, scheduled_until: until, source: 'schedule', holder: 'session 902' })
  await t.resolves(w.machines.drive([2]), 'a failed publish resolves too (the retry timer covers it)')
})
