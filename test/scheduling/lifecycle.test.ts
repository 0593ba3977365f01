import t from 'tap'
import { FakeClock } from '../helpers/fake-clock.js'
import { admin, buildWorld, kiosk, runFor } from './world.js'

const H = 3600

t.test('a session starts and ends to the second', async (t) => {
  const w = await buildWorld(t)
  const start = w.clock.nowSeconds() + 600
  const r = await w.scheduling.submit({ machine_id: [2, 3], status: 'reserved', start_time: start, duration: H }, kiosk)
  t.ok(r.ok)
  await runFor(w, 599_000)
  t.equal(w.scheduling.get(1)?.status, 'reserved', 'not a second early')
  t.equal(w.scheduling.desiredStateFor(2, w.clock.nowSeconds()), undefined)
  await runFor(w, 1_000)
  const activated = w.changes.find((c) => c.change === 'activated')
  t.ok(activated, 'activated')
  t.equal(activated!.session.updated_at, start, 'decided at the start second')
  t.ok(activated!.at < start * 1000 + 1000, 'announced within that second')
  t.equal(w.scheduling.get(1)?.status, 'active', 'durably active')
  t.same(w.scheduling.desiredStateFor(3, w.clock.nowSeconds()), {
    status: 'active', session_id: 1, scheduled_until: start + H, source: 'schedule', holder: 'session 1',
  })
  await runFor(w, H * 1000 - 1000)
  t.equal(w.scheduling.get(1)?.status, 'active', 'not a second short')
  await runFor(w, 1_000)
  const completed = w.changes.find((c) => c.change === 'completed')
  t.equal(completed?.session.updated_at, start + H, 'completed at the end second')
  t.equal(w.scheduling.get(1)?.status, 'completed')
  t.equal(w.scheduling.desiredStateFor(2, w.clock.nowSeconds()), undefined)
  t.same(w.changes.map((c) => c.change), ['created', 'activated', 'completed'])
})

t.test('a walk-up booked for now is active at once', async (t) => {
  const w = await buildWorld(t)
  const now = w.clock.nowSeconds()
  const r = await w.scheduling.submit({ machine_id: 5, status: 'reserved', start_time: now, duration: 1800 }, kiosk)
  t.ok(r.ok)
  await w.scheduling.idle()
  await w.clock.advance(0)
  t.same(w.changes.map((c) => c.change), ['created', 'activated'])
  t.equal(w.scheduling.desiredStateFor(5, now)?.scheduled_until, now + 1800)
})

t.test('after downtime a running session activates at once for its remaining time', async (t) => {
  const dir = t.testdir()
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 9, 0, 0))
  const first = await buildWorld(t, { dir, clock })
  const start = clock.nowSeconds() + 600
  await first.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: start, duration: H }, kiosk)
  await first.scheduling.submit({ machine_id: 2, status: 'reserved', start_time: start, duration: 1200 }, kiosk)
  await first.close()
  await clock.jump((start + 1800) * 1000) // the hub was down from before the start to mid-session
  const second = await buildWorld(t, { dir, clock })
  await second.scheduling.idle()
  const changes = second.changes.map((c) => [c.change, c.session.session_id])
  t.same(changes, [['activated', 1], ['completed', 2]], 'running one activated; the one that ended while down is completed, never started')
  t.equal(second.scheduling.desiredStateFor(1, clock.nowSeconds())?.scheduled_until, start + H, 'until its own end')
  t.equal(second.scheduling.desiredStateFor(2, clock.nowSeconds()), undefined)
  await runFor(second, 1800_000)
  t.equal(second.scheduling.get(1)?.status, 'completed')
  t.equal(second.scheduling.get(1)?.updated_at, start + H)
})

t.test('restart mid-session keeps it active without a new start', async (t) => {
  const dir = t.testdir()
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 9, 0, 0))
  const first = await buildWorld(t, { dir, clock })
  const start = clock.nowSeconds() + 60
  await first.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: start, duration: H }, kiosk)
  await runFor(first, 120_000)
  t.equal(first.scheduling.get(1)?.status, 'active')
  await first.close()
  await clock.jump(clock.now() + 30_000)
  const second = await buildWorld(t, { dir, clock })
  await second.scheduling.idle()
  t.same(second.changes, [], 'nothing to change: the session is durably active')
  t.equal(second.scheduling.desiredStateFor(1, clock.nowSeconds())?.status, 'active')
})

t.test('clock jumps forward and back', async (t) => {
  const w = await buildWorld(t)
  const t0 = w.clock.nowSeconds()
  const start = t0 + 2 * H
  await w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: start, duration: H }, kiosk)
  // NTP steps the clock forward past the start: caught within the 60 s horizon.
  await w.clock.jump((start + 600) * 1000)
  await runFor(w, 60_000)
  t.equal(w.scheduling.get(1)?.status, 'active', 'activated after a forward step')
  t.equal(w.scheduling.desiredStateFor(1, w.clock.nowSeconds())?.scheduled_until, start + H)
  await w.clock.jump((start + H + 5) * 1000)
  await runFor(w, 60_000)
  t.equal(w.scheduling.get(1)?.status, 'completed', 'completed after a forward step past the end')
  // Now the clock steps back into the session: an ended session never restarts.
  await w.clock.jump((start + 600) * 1000)
  await runFor(w, 5 * 60_000)
  t.equal(w.scheduling.get(1)?.status, 'completed')
  t.equal(w.scheduling.desiredStateFor(1, w.clock.nowSeconds()), undefined, 'never restarts')
  t.same(w.changes.map((c) => c.change), ['created', 'activated', 'completed'])
  // A step back before a running session's start leaves it running until its end.
  const s2 = w.clock.nowSeconds() + 120
  await w.scheduling.submit({ machine_id: 2, status: 'reserved', start_time: s2, duration: H }, kiosk)
  await runFor(w, 180_000)
  t.equal(w.scheduling.get(2)?.status, 'active')
  await w.clock.jump((s2 - 600) * 1000)
  await runFor(w, 120_000)
  t.equal(w.scheduling.desiredStateFor(2, w.clock.nowSeconds())?.status, 'active', 'still active after a step back')
})

t.test('cancelling an active session stops the bay now; extending moves its end', async (t) => {
  const w = await buildWorld(t)
  const start = w.clock.nowSeconds() + 60
  const body = { session_id: 1, machine_id: 3, status: 'reserved' as const, start_time: start, duration: 1800 }
  const { session_id: _, ...create } = body
  await w.scheduling.submit(create, kiosk)
  await w.scheduling.submit({ ...create, machine_id: 4 }, kiosk)
  await runFor(w, 120_000)
  t.equal(w.scheduling.desiredStateFor(3, w.clock.nowSeconds())?.status, 'active')

  const extend = await w.scheduling.submit({ ...body, duration: 3600 }, kiosk)
  t.ok(extend.ok)
  t.equal(w.changes.at(-1)?.change, 'updated')
  t.equal(w.scheduling.desiredStateFor(3, w.clock.nowSeconds())?.scheduled_until, start + 3600, 'new end for the machine')
  t.equal(w.scheduling.get(1)?.status, 'active', 'still active')
  const move = await w.scheduling.submit({ ...body, start_time: start + 900, duration: 3600 }, kiosk)
  t.equal(move.ok ? 'ok' : move.field, 'start_time', 'a started session cannot move its start')
  const past = await w.scheduling.submit({ ...body, duration: 60 }, kiosk)
  t.equal(past.ok ? 'ok' : past.field, 'duration', 'cannot shorten into the past')

  const cancel = await w.scheduling.cancel(2, kiosk)
  t.ok(cancel.ok)
  t.equal(w.changes.at(-1)?.change, 'cancelled')
  t.equal(w.scheduling.desiredStateFor(4, w.clock.nowSeconds()), undefined, 'bay 4 stops now')

  await runFor(w, (1800 - 60) * 1000)
  t.equal(w.scheduling.get(1)?.status, 'active', 'the old end passes without completing it')
  await runFor(w, 1800 * 1000)
  t.equal(w.scheduling.get(1)?.status, 'completed')
  t.equal(w.scheduling.get(1)?.updated_at, start + 3600)
  const late = await w.scheduling.submit({ ...body, duration: 7200 }, kiosk)
  t.equal(late.ok ? 'ok' : late.code, 'SESSION_ENDED')
})

t.test('maintenance blocks hold the bay in maintenance between start and end', async (t) => {
  const w = await buildWorld(t)
  const start = w.clock.nowSeconds() + 60
  await w.scheduling.submit({ machine_id: 7, status: 'maintenance', start_time: start, duration: 600 }, admin)
  await runFor(w, 61_000)
  t.same(w.scheduling.desiredStateFor(7, w.clock.nowSeconds()), {
    status: 'maintenance', session_id: 1, scheduled_until: start + 600, source: 'schedule', holder: 'session 1',
  })
  await runFor(w, 600_000)
  t.equal(w.scheduling.desiredStateFor(7, w.clock.nowSeconds()), undefined)
  t.same(w.changes.map((c) => c.change), ['created', 'activated', 'completed'])
})
