import t from 'tap'
import { admin, buildWorld, kiosk } from './world.js'

const H = 3600

t.test('create, conflict, idempotent repeat, update, cancel', async (t) => {
  const w = await buildWorld(t)
  const now = w.clock.nowSeconds()
  const a = await w.scheduling.submit({ machine_id: [1, 2], status: 'reserved', start_time: now + H, duration: H }, kiosk)
  t.ok(a.ok)
  if (!a.ok) return
  t.equal(a.value.session.session_id, 1, 'the hub assigns ids')
  t.same(a.value.session.machine_id, [1, 2])
  t.equal(a.value.replay, false)
  t.equal(w.changes.length, 1)
  t.equal(w.changes[0]!.change, 'created')

  const clash = await w.scheduling.submit({ machine_id: [2, 3], status: 'reserved', start_time: now + H + 1800, duration: H }, kiosk)
  t.equal(clash.ok, false)
  if (!clash.ok) {
    t.equal(clash.code, 'SESSION_CONFLICT')
    t.match(clash.message, /^bay 2 is taken by session 1 \(11:00-12:00\)$/, 'names bay, session and local times')
  }
  t.equal(w.scheduling.get(2), undefined, 'a refused group books nothing (all-or-nothing)')

  const first = await w.scheduling.submit({ machine_id: 3, status: 'reserved', start_time: now + H, duration: 1800 }, kiosk)
  if (!first.ok) return t.fail('booked')
  const id = first.value.session.session_id
  const body = { session_id: id, machine_id: 3, status: 'reserved' as const, start_time: now + H, duration: 1800 }
  const again = await w.scheduling.submit({ ...body }, kiosk)
  t.ok(first.ok && again.ok)
  if (first.ok && again.ok) {
    t.equal(again.value.replay, true, 'same id + same content = replay')
    t.same(again.value.session, first.value.session, 'same confirmation')
  }
  t.equal(w.changes.length, 2, 'no event for a replay')
  t.equal(w.scheduling.list().length, 2, 'no duplicate')

  const moved = await w.scheduling.submit({ ...body, start_time: now + H + 900 }, kiosk)
  t.ok(moved.ok && !moved.value.replay, 'same id + other content = update (conflict-checked without itself)')
  t.equal(w.changes.at(-1)!.change, 'updated')
  t.equal(w.changes.at(-1)!.previous?.start_time, now + H)
  const extended = await w.scheduling.submit({ ...body, start_time: now + H + 900, duration: 2 * H }, kiosk)
  t.ok(extended.ok)
  t.equal(w.scheduling.get(id)?.end_time, now + H + 900 + 2 * H)

  const cancel = await w.scheduling.cancel(id, kiosk)
  t.ok(cancel.ok)
  t.equal(w.scheduling.get(id)?.status, 'cancelled')
  t.equal(w.changes.at(-1)!.change, 'cancelled')
  const cancelAgain = await w.scheduling.submit({ ...body, status: 'cancelled' }, kiosk)
  t.ok(cancelAgain.ok && cancelAgain.value.replay, 'cancelling twice is a replay')
  const revive = await w.scheduling.submit({ ...body, duration: 600 }, kiosk)
  t.equal(revive.ok ? 'ok' : revive.code, 'SESSION_ENDED', 'a cancelled session cannot change')
  const free = await w.scheduling.submit({ machine_id: 3, status: 'reserved', start_time: now + H, duration: H }, kiosk)
  t.ok(free.ok, 'a cancelled session frees its bay')
})

t.test('refusals name the field and change nothing', async (t) => {
  const w = await buildWorld(t)
  const now = w.clock.nowSeconds()
  const cases: Array<[Parameters<typeof w.scheduling.submit>[0], string, string]> = [
    [{ machine_id: 1, status: 'reserved', start_time: now + 60 }, 'SESSION_INVALID', 'duration'],
    [{ machine_id: 1, status: 'reserved', start_time: now - 300, duration: 600 }, 'SESSION_INVALID', 'start_time'],
    [{ machine_id: 11, status: 'reserved', duration: 600 }, 'MACHINE_UNKNOWN', 'machine_id'],
    [{ machine_id: [5, 6], status: 'reserved', duration: 600 }, 'BAYS_NOT_ADJACENT', 'machine_id'],
    [{ machine_id: [1, 3], status: 'reserved', duration: 600 }, 'BAYS_NOT_ADJACENT', 'machine_id'],
    [{ machine_id: 1, status: 'cancelled' }, 'SESSION_INVALID', 'session_id'],
    [{ machine_id: 1, session_id: 99, status: 'cancelled' }, 'SESSION_NOT_FOUND', 'session_id'],
    [{ machine_id: 1, status: 'maintenance', duration: 600 }, 'SESSION_FORBIDDEN', 'status'],
  ]
  for (const [body, code, field] of cases) {
    const r = await w.scheduling.submit(body, kiosk)
    t.equal(r.ok ? 'ok' : r.code, code, JSON.stringify(body))
    if (!r.ok) {
      t.equal(r.field, field)
      t.match(r.message, new RegExp(`^${field}: `))
    }
  }
  t.equal(w.scheduling.list().length, 0)
  t.equal(w.changes.length, 0)
})

t.test('a start less than one slot late means now', async (t) => {
  const w = await buildWorld(t)
  const now = w.clock.nowSeconds()
  const r = await w.scheduling.submit({ machine_id: 4, status: 'reserved', start_time: now - 200, duration: 600 }, kiosk)
  t.ok(r.ok)
  if (r.ok) t.equal(r.value.session.start_time, now)
})

t.test('only the owner or an admin changes a session; maintenance is admin-only', async (t) => {
  const w = await buildWorld(t)
  const now = w.clock.nowSeconds()
  const r = await w.scheduling.submit({ machine_id: 4, status: 'reserved', start_time: now + H, duration: 600 }, kiosk)
  t.ok(r.ok)
  const other = await w.scheduling.submit({ session_id: 1, machine_id: 4, status: 'cancelled' }, { origin: 'reservation_interface' })
  t.equal(other.ok ? 'ok' : other.code, 'SESSION_FORBIDDEN')
  if (!other.ok) t.match(other.message, /belongs to kiosk_interface/)
  const moveByOther = await w.scheduling.submit({ session_id: 1, machine_id: 5, status: 'reserved', start_time: now + H, duration: 600 }, { origin: 'reservation_interface' })
  t.equal(moveByOther.ok ? 'ok' : moveByOther.code, 'SESSION_FORBIDDEN', 'nor move it')
  const byAdmin = await w.scheduling.submit({ session_id: 1, machine_id: 4, status: 'reserved', start_time: now + 2 * H, duration: 600 }, admin)
  t.ok(byAdmin.ok)
  t.equal(w.scheduling.get(1)?.origin_node, 'kiosk_interface', 'the owner stays')
  const block = await w.scheduling.submit({ machine_id: [4, 5], status: 'maintenance', start_time: now + 3 * H, duration: H }, admin)
  t.ok(block.ok)
  if (block.ok) t.equal(block.value.session.status, 'maintenance')
})

t.test('external ids map repeats to the same session', async (t) => {
  const w = await buildWorld(t)
  const now = w.clock.nowSeconds()
  const opts = { origin: 'reservation_interface', externalId: 'res-42' }
  const a = await w.scheduling.submit({ machine_id: 6, status: 'reserved', start_time: now + H, duration: H }, opts)
  const b = await w.scheduling.submit({ machine_id: 6, status: 'reserved', start_time: now + H, duration: H }, opts)
  t.ok(a.ok && b.ok)
  if (a.ok && b.ok) {
    t.equal(b.value.session.session_id, a.value.session.session_id)
    t.equal(b.value.replay, true)
  }
  t.equal(w.scheduling.findByExternalId('res-42')?.external_id, 'res-42')
  const moved = await w.scheduling.submit({ machine_id: 6, status: 'reserved', start_time: now + 2 * H, duration: H }, opts)
  t.ok(moved.ok && !moved.value.replay)
  t.equal(w.scheduling.list().length, 1)
  t.equal(w.scheduling.findByExternalId('nope'), undefined)
})

t.test('sessions and ids survive a restart', async (t) => {
  const dir = t.testdir()
  const first = await buildWorld(t, { dir })
  const now = first.clock.nowSeconds()
  await first.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: now + H, duration: H }, kiosk)
  await first.scheduling.submit({ machine_id: 2, status: 'reserved', start_time: now + H, duration: H }, kiosk)
  await first.scheduling.cancel(2, kiosk)
  const before = first.scheduling.list()
  await first.close()
  const second = await buildWorld(t, { dir, clock: first.clock })
  t.same(second.scheduling.list(), before)
  const next = await second.scheduling.submit({ machine_id: 3, status: 'reserved', start_time: now + H, duration: H }, kiosk)
  t.ok(next.ok)
  if (next.ok) t.equal(next.value.session.session_id, 3, 'ids keep counting after a restart')
  const replay = await second.scheduling.submit({ machine_id: 2, session_id: 2, status: 'cancelled' }, kiosk)
  t.ok(replay.ok && replay.value.replay)
})

t.test('list filters, schedule and availability', async (t) => {
  const w = await buildWorld(t)
  const now = w.clock.nowSeconds() // 10:00 London
  await w.scheduling.submit({ machine_id: [1, 2], status: 'reserved', start_time: now, duration: H }, kiosk)
  await w.scheduling.submit({ machine_id: 3, status: 'reserved', start_time: now + 2 * H, duration: H }, kiosk)
  t.same(w.scheduling.list({ machineId: 3 }).map((s) => s.session_id), [2])
  t.same(w.scheduling.list({ from: now + H }).map((s) => s.session_id), [2])
  t.same(w.scheduling.list({ to: now + H }).map((s) => s.session_id), [1])

  const grid = w.scheduling.scheduleFor('2026-06-01')
  t.ok(grid.ok)
  if (grid.ok) {
    t.equal(grid.value.schedule.length, 288)
    const row = grid.value.schedule.find((r) => r[0] === '10:00')!
    t.same(row[1], { machine_id: 1, status: 'active', session_id: 1 })
    t.same(row[3], { machine_id: 3, status: 'available' })
  }
  const bad = w.scheduling.scheduleFor('2026-6-1')
  t.equal(bad.ok ? 'ok' : bad.field, 'date')

  const walkUp = w.scheduling.availability({ bays: 2, minutes: 60 })
  t.ok(walkUp.ok)
  if (walkUp.ok) {
    t.same(walkUp.value[0], { machine_id: [3, 4], start_time: now, end_time: now + H }, 'now, first free pair')
    t.same(walkUp.value.slice(0, 3).map((o) => o.machine_id), [[3, 4], [6, 7], [8, 9]], 'every free pair now, across rows')
    t.equal(walkUp.value[3]!.start_time, now + 300, 'then the next slot')
  }
  const wide = w.scheduling.availability({ bays: 5, minutes: 30, near: now + 1000 })
  t.ok(wide.ok)
  if (wide.ok) {
    t.same(wide.value[0], { machine_id: [6, 7, 8, 9, 10], start_time: now + 900, end_time: now + 900 + 1800 }, 'nearest grid start, other row')
    t.ok(wide.value.every((o) => (o.start_time - now) % 300 === 0), 'on the 5-minute grid')
  }
  const tooWide = w.scheduling.availability({ bays: 6, minutes: 30 })
  t.equal(tooWide.ok ? 'ok' : tooWide.field, 'bays')
})
