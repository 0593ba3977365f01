/** internal/admin feed: machine and session changes, alerts, and every command's Confirmation (DESIGN §4). */
import t from 'tap'
import { createAdminFeed } from '../../../src/interfaces/mqtt/admin-feed.js'
import { Topics } from '../../../src/protocol/topics.js'
import type { SessionRecord } from '../../../src/protocol/messages.js'
import { FakeBroker } from '../../helpers/fake-broker.js'
import { buildWorld, log } from '../../machines/world.js'

t.test('machine changes, alerts and command outcomes reach internal/admin', async (t) => {
  const w = await buildWorld(t)
  const feed = createAdminFeed({ broker: w.broker, events: w.events, clock: w.clock, log })
  t.teardown(feed.stop)
  const m1 = FakeBroker.machine(1)
  const m2 = FakeBroker.machine(2)
  w.autoConfirm(m1)
  w.broker.connect(m1)
  w.broker.connect(m2) // never confirms
  await w.idle()
  const held = await w.machines.override({ machine_id: 1, status: 'maintenance' }, { source: 'admin', node: 'admin_portal' })
  t.ok(held.ok)
  await w.idle(15_000)
  const admin = w.broker.to(Topics.admin).map((p) => p.payload)
  t.ok(admin.every((p) => p.destination_node === 'admin_portal' && typeof p.timestamp === 'number'))
  t.ok(admin.some((p) => p.machine_id === 1 && p.online === true && p.origin_node === 'machine_handler'), 'machine.changed')
  const confirmations = admin.filter((p) => p.success === true && p.machine_id === 1)
  t.match(confirmations.at(-1), { status: 'maintenance', origin_node: 'machine_001', latency_ms: 0 }, "the override's machine Confirmation")
  t.match(admin.find((p) => p.success === false), { machine_id: 2, status: 'idle', message: /^machine 2: no confirmation after 3 tries/ })
  t.match(admin.find((p) => p.event === 'alert.raised'), { kind: 'command_failed', machine_id: 2 })
  w.broker.disconnect(m1, 'dropped')
  await w.idle()
  t.match(w.broker.to(Topics.admin).at(-1)?.payload, { event: 'alert.raised', kind: 'offline', machine_id: 1 })
  w.broker.connect(m1)
  await w.idle()
  t.ok(w.broker.to(Topics.admin).some((p) => p.payload.event === 'alert.cleared' && p.payload.kind === 'offline'))
})

t.test('session changes go to internal/admin and to the owning node', async (t) => {
  const w = await buildWorld(t)
  const feed = createAdminFeed({ broker: w.broker, events: w.events, clock: w.clock, log })
  t.teardown(feed.stop)
  const session: SessionRecord = {
    session_id: 812, machine_id: [1, 2], status: 'reserved', start_time: 1_767_261_600, end_time: 1_767_265_200, duration: 3600,
    origin_node: 'kiosk_interface', created_at: 1_767_261_000, updated_at: 1_767_261_000,
  }
  w.events.emit('session.changed', { change: 'created', session })
  w.events.emit('session.changed', { change: 'cancelled', session: { ...session, status: 'cancelled', origin_node: 'admin_portal' } })
  await w.idle()
  t.match(w.broker.to(Topics.admin).map((p) => p.payload), [
    { session_id: 812, change: 'created', origin_node: 'schedule_manager' },
    { session_id: 812, change: 'cancelled' },
  ], 'admin-owned sessions are not sent twice')
  t.match(w.broker.to(Topics.kiosk).map((p) => p.payload), [{ session_id: 812, change: 'created', machine_id: [1, 2], destination_node: 'kiosk_interface' }])
  feed.stop()
  w.events.emit('session.changed', { change: 'updated', session })
  t.equal(w.broker.to(Topics.admin).length, 2, 'nothing after stop')
})
