/** Priority admin > schedule > kiosk/reservation and the duplicate rule (DESIGN §5), over the FakeBroker. */
import t from 'tap'
import { machineTopic } from '../../src/protocol/topics.js'
import { FakeBroker } from '../helpers/fake-broker.js'
import { buildWorld, named, type World } from './world.js'

const m3 = FakeBroker.machine(3)
const admin = { source: 'admin' as const, node: 'admin_portal' }
const kiosk = { source: 'kiosk' as const, node: 'kiosk_interface' }

async function onlineAndConfirming(w: World): Promise<void> {
  w.autoConfirm(m3)
  w.broker.connect(m3)
  await w.idle()
}

t.test('kiosk is refused while the schedule holds the bay; admin wins; release returns to the schedule', async (t) => {
  const w = await buildWorld(t)
  await onlineAndConfirming(w)
  const until = w.clock.nowSeconds() + 5400 // 11:30:00 UTC
  w.schedule.set(3, { status: 'active', session_id: 812, scheduled_until: until, source: 'schedule', holder: 'session 812' })
  w.machines.reconcile([3])
  await w.idle()
  t.match(w.machines.get(3), { status: 'active', session_id: 812 })

  const refused = await w.machines.override({ machine_id: 3, status: 'idle', scheduled_until: until }, kiosk)
  t.same(refused, { ok: false, code: 'MACHINE_HELD', message: 'machine 3 is held by session 812 until 11:30:00' })

  const sentBefore = w.broker.to(machineTopic(3)).length
  const held = await w.machines.override({ machine_id: 3, status: 'maintenance' }, admin)
  t.match(held, { ok: true, value: { machine_id: 3, desired: { source: 'admin', status: 'maintenance', holder: 'an admin override (maintenance)' } } })
  await w.idle()
  t.equal(w.broker.to(machineTopic(3)).length, sentBefore + 1)
  t.match(w.broker.to(machineTopic(3)).at(-1)?.payload, { status: 'maintenance', scheduled_until: null, session_id: null })
  t.match(w.machines.get(3), { status: 'maintenance' })

  const again = await w.machines.override({ machine_id: 3, status: 'maintenance' }, admin)
  t.ok(again.ok, 'identical repeat accepted')
  await w.idle()
  t.equal(w.broker.to(machineTopic(3)).length, sentBefore + 1, 'identical repeat sends nothing')

  t.same(await w.machines.override({ machine_id: 3, status: 'active', scheduled_until: until }, kiosk), {
    ok: false, code: 'MACHINE_HELD', message: 'machine 3 is held by an admin override (maintenance)',
  })

  const released = await w.machines.override({ machine_id: 3, status: 'idle', release: true }, admin)
  t.match(released, { ok: true, value: { desired: { source: 'schedule', session_id: 812 } } })
  await w.idle()
  t.match(w.broker.to(machineTopic(3)).at(-1)?.payload, { status: 'active', session_id: 812, scheduled_until: until })
  t.match(w.machines.get(3), { status: 'active' })
})

t.test('a kiosk command holds a free bay until its time, then the bay idles by itself', async (t) => {
  const w = await buildWorld(t)
  await onlineAndConfirming(w)
  const until = w.clock.nowSeconds() + 600
  const ok = await w.machines.override({ machine_id: 3, status: 'active', session_id: 77, scheduled_until: until }, kiosk)
  t.match(ok, { ok: true, value: { desired: { source: 'kiosk', holder: 'session 77 (kiosk_interface)' } } })
  await w.idle()
  t.match(w.broker.to(machineTopic(3)).at(-1)?.payload, { status: 'active', session_id: 77, scheduled_until: until })

  const other = await w.machines.override({ machine_id: 3, status: 'active', session_id: 78, scheduled_until: until }, { source: 'reservation', node: 'reservation_interface' })
  t.same(other, { ok: false, code: 'MACHINE_HELD', message: 'machine 3 is held by session 77 (kiosk_interface) until 10:10:00' })
  t.match(await w.machines.override({ machine_id: 3, status: 'active' }, kiosk), { ok: false, code: 'MACHINE_INVALID', field: 'scheduled_until' })
  t.match(await w.machines.override({ machine_id: 99, status: 'idle' }, admin), { ok: false, code: 'MACHINE_UNKNOWN', message: /machine 99 is not served/ })

  const count = w.broker.to(machineTopic(3)).length
  await w.idle(599_000)
  t.equal(w.broker.to(machineTopic(3)).length, count, 'still held before its time')
  await w.idle(1_000)
  t.match(w.broker.to(machineTopic(3)).at(-1)?.payload, { status: 'idle', session_id: null, scheduled_until: null })
  t.match(w.machines.get(3), { status: 'idle', desired: { source: 'default' } })
})

t.test('an admin override with an until-time ends by itself; the timer re-arms at most 60 s ahead', async (t) => {
  const w = await buildWorld(t)
  await onlineAndConfirming(w)
  const until = w.clock.nowSeconds() + 3600
  await w.machines.override({ machine_id: 3, status: 'maintenance', scheduled_until: until }, admin)
  await w.idle()
  t.match(w.broker.to(machineTopic(3)).at(-1)?.payload, { status: 'maintenance', scheduled_until: until }, 'the until-time is the fail-safe')
  t.equal(w.clock.pendingTimers, 1, 'one expiry timer')
  await w.idle(3_599_000)
  t.match(w.machines.get(3), { status: 'maintenance' })
  await w.idle(1_000)
  t.match(w.machines.get(3), { status: 'idle', desired: { source: 'default' } })
  t.equal(w.clock.pendingTimers, 0, 'nothing left to expire')
  t.ok(named(w, 'machine.changed').length > 0)
})
