/**
 * Bay health as the machines module reports it to scheduling (issue 11): an admin override,
 * an error, maintenance reported by the dispenser itself, or offline past the grace make a
 * bay unsellable. And no control leaves the hub without a deadline.
 */
import t from 'tap'
import { Topics } from '../../src/protocol/topics.js'
import { FakeBroker } from '../helpers/fake-broker.js'
import { buildWorld, report } from './world.js'

const m3 = FakeBroker.machine(3)
const admin = { source: 'admin' as const, node: 'admin_portal' }

t.test('offline counts only after the grace (60 s), from when the hub started or the bay dropped', async (t) => {
  const w = await buildWorld(t)
  const started = w.clock.nowSeconds()
  t.equal(w.machines.health(3, w.clock.nowSeconds()), undefined, 'just started: within the grace')
  await w.idle(61_000)
  t.match(w.machines.health(3, w.clock.nowSeconds()), { reason: 'offline', until: null, since: started, detail: 'never connected' })
  w.autoConfirm(m3)
  w.broker.connect(m3)
  await w.idle()
  t.equal(w.machines.health(3, w.clock.nowSeconds()), undefined, 'online and idle: sellable')
  w.broker.disconnect(m3, 'keepalive')
  await w.idle(30_000)
  t.equal(w.machines.health(3, w.clock.nowSeconds()), undefined, 'a short drop is not offline yet')
  const dropped = w.clock.nowSeconds() - 30
  await w.idle(31_000)
  t.match(w.machines.health(3, w.clock.nowSeconds()), { reason: 'offline', since: dropped, detail: 'keep-alive expired' })
})

t.test('admin overrides hold the bay; errors and self-reported maintenance make it unsellable', async (t) => {
  const w = await buildWorld(t)
  w.autoConfirm(m3)
  w.broker.connect(m3)
  await w.idle()
  const until = w.clock.nowSeconds() + 3600
  t.ok((await w.machines.override({ machine_id: 3, status: 'maintenance', scheduled_until: until }, admin)).ok)
  t.same(w.machines.health(3, w.clock.nowSeconds()), { reason: 'maintenance', until, holder: 'an admin override (admin_portal)' })
  t.ok((await w.machines.override({ machine_id: 3, status: 'idle', scheduled_until: until }, admin)).ok)
  t.same(w.machines.health(3, w.clock.nowSeconds()), { reason: 'held', until, holder: 'an admin override (stopped by admin_portal)' })
  t.ok((await w.machines.override({ machine_id: 3, status: 'idle', release: true }, admin)).ok)
  await w.idle()
  t.equal(w.machines.health(3, w.clock.nowSeconds()), undefined, 'released: sellable again')

  w.broker.inject(Topics.machineHandler, report(3, { status: 'maintenance' }), m3)
  await w.idle()
  t.match(w.machines.health(3, w.clock.nowSeconds()), { reason: 'maintenance', holder: 'the dispenser itself' })
  w.schedule.set(3, { status: 'maintenance', session_id: 9, scheduled_until: until, source: 'schedule', holder: 'session 9' })
  t.equal(w.machines.health(3, w.clock.nowSeconds()), undefined, 'a maintenance block the schedule asked for is not a fault (the block itself holds the slots)')
  w.schedule.delete(3)
  w.broker.inject(Topics.machineHandler, report(3, { status: 'error' }), m3)
  await w.idle()
  t.match(w.machines.health(3, w.clock.nowSeconds()), { reason: 'error', until: null })
})

t.test('an admin "active" without scheduled_until gets HUB_MAX_OVERRIDE_MINUTES (240) as its deadline', async (t) => {
  const w = await buildWorld(t)
  w.autoConfirm(m3)
  w.broker.connect(m3)
  await w.idle()
  const now = w.clock.nowSeconds()
  const r = await w.machines.override({ machine_id: 3, status: 'active' }, admin)
  t.match(r, { ok: true, value: { desired: { status: 'active', scheduled_until: now + 240 * 60, source: 'admin' } } })
  const sent = w.broker.to('external/machine/3').at(-1)?.payload as { status?: string; scheduled_until?: number | null }
  t.match(sent, { status: 'active', scheduled_until: now + 240 * 60 }, 'the control carries the deadline (the dispenser fail-safe)')
  const maint = await w.machines.override({ machine_id: 3, status: 'maintenance' }, admin)
  t.match(maint, { ok: true, value: { desired: { status: 'maintenance', scheduled_until: null } } }, 'maintenance is the safe state: it may last until released')
})
