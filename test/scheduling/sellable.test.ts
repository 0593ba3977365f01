/**
 * Sell only what can dispense (issue 11): the rule table of refusals for unhealthy bays and
 * opening hours, through the real scheduling module on a real LevelDB with a fake clock and a
 * scripted health port (the hub wires machines.health there).
 */
import t from 'tap'
import type { BayProblem, Session } from '../../src/protocol/messages.js'
import { describeProblem, problemAt } from '../../src/scheduling/sellable.js'
import { closingAfter, outsideHours } from '../../src/scheduling/hours.js'
import { admin, buildWorld, kiosk } from './world.js'

// 2026-06-01 09:00 UTC = 10:00 in London (BST)
const at = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number]
  return Date.UTC(2026, 5, 1, h - 1, m) / 1000
}
const reservation = { origin: 'reservation_interface' }

t.test('problem wording names bay, reason and holder', async (t) => {
  const tz = 'Europe/London'
  t.equal(describeProblem(37, { reason: 'maintenance', until: at('18:00'), holder: 'an admin override (admin_portal)' }, tz), 'bay 37 is in maintenance until 18:00 (held by an admin override (admin_portal))')
  t.equal(describeProblem(3, { reason: 'held', until: at('11:00'), holder: 'an admin override (stopped by admin_portal)' }, tz), 'bay 3 is held by an admin override (stopped by admin_portal) until 11:00')
  t.equal(describeProblem(4, { reason: 'error', until: null, detail: 'motor jammed' }, tz), 'bay 4 is in error: motor jammed')
  t.equal(describeProblem(40, { reason: 'offline', until: null, since: at('09:58'), detail: 'keep-alive expired' }, tz), 'bay 40 is offline since 09:58 (keep-alive expired)')
  const p: BayProblem = { reason: 'maintenance', until: at('12:00') }
  t.equal(problemAt(p, at('11:59')), p, 'spoils a booking starting before it ends')
  t.equal(problemAt(p, at('12:00')), undefined, 'a booking from its end on is fine')
  t.equal(problemAt({ reason: 'offline', until: null }, at('23:00'))?.reason, 'offline', 'no known end: spoils every booking')
})

t.test('opening hours: inside one day, never past close', async (t) => {
  const tz = 'Europe/London'
  const h = '08:00-22:00'
  t.equal(outsideHours(tz, null, at('23:00'), at('23:59')), undefined, 'no hours: always open')
  t.equal(outsideHours(tz, h, at('08:00'), at('22:00')), undefined, 'exactly the window')
  t.match(outsideHours(tz, h, at('07:55'), at('08:30')), { field: 'start_time', message: 'start_time: 07:55 is outside opening hours 08:00-22:00' })
  t.match(outsideHours(tz, h, at('22:00'), at('22:30')), { field: 'start_time' })
  t.match(outsideHours(tz, h, at('21:30'), at('22:30')), { field: 'duration', message: 'duration: the session would run past closing time 22:00 (it would end 22:30)' })
  t.equal(closingAfter(tz, h, at('10:00')), at('22:00'))
  t.equal(closingAfter(tz, h, at('22:00')), null, 'closed: no closing time left today')
  t.equal(closingAfter(tz, null, at('10:00')), null)
})

t.test('rule table: kiosk and reservation are refused on unhealthy bays and outside hours; admin may force', async (t) => {
  const problems = new Map<number, BayProblem>([
    [2, { reason: 'maintenance', until: at('18:00'), holder: 'an admin override (admin_portal)' }],
    [3, { reason: 'error', until: null, detail: 'motor jammed' }],
    [4, { reason: 'offline', until: null, since: at('09:58'), detail: 'keep-alive expired' }],
    [5, { reason: 'held', until: at('11:00'), holder: 'an admin override (stopped by admin_portal)' }],
  ])
  const w = await buildWorld(t, { env: { HUB_OPENING_HOURS: '08:00-22:00' }, bayHealth: (id) => problems.get(id) })
  const book = (s: Partial<Session>): Session => ({ machine_id: 1, status: 'reserved', start_time: at('10:30'), duration: 1800, ...s })
  const cases: Array<[string, Session, typeof kiosk | typeof admin, string | null, RegExp | null]> = [
    ['healthy bay', book({}), kiosk, null, null],
    ['maintenance', book({ machine_id: 2 }), kiosk, 'BAY_UNAVAILABLE', /^bay 2 is in maintenance until 18:00 \(held by an admin override/],
    ['maintenance, reservation', book({ machine_id: 2 }), reservation, 'BAY_UNAVAILABLE', /^bay 2 is in maintenance until 18:00/],
    ['maintenance after it ends', book({ machine_id: 2, start_time: at('18:00') }), kiosk, null, null],
    ['error', book({ machine_id: 3 }), kiosk, 'BAY_UNAVAILABLE', /^bay 3 is in error: motor jammed$/],
    ['offline', book({ machine_id: 4 }), reservation, 'BAY_UNAVAILABLE', /^bay 4 is offline since 09:58/],
    ['offline, later today', book({ machine_id: 4, start_time: at('20:00') }), kiosk, 'BAY_UNAVAILABLE', /^bay 4 is offline/],
    ['admin stop', book({ machine_id: 5 }), kiosk, 'BAY_UNAVAILABLE', /^bay 5 is held by an admin override \(stopped by admin_portal\) until 11:00$/],
    ['admin stop ends first', book({ machine_id: 5, start_time: at('11:00') }), kiosk, null, null],
    ['group with one bad bay', book({ machine_id: [6, 7], start_time: at('12:00') }), kiosk, null, null],
    ['group naming the bad bay', book({ machine_id: [1, 2], start_time: at('12:00') }), kiosk, 'BAY_UNAVAILABLE', /^bay 2 is in maintenance/],
    ['before opening', book({ machine_id: 8, start_time: at('07:30') + 86_400 }), kiosk, 'SESSION_OUTSIDE_HOURS', /^start_time: 07:30 is outside opening hours 08:00-22:00$/],
    ['past close', book({ machine_id: 8, start_time: at('21:30'), duration: 3600 }), reservation, 'SESSION_OUTSIDE_HOURS', /^duration: the session would run past closing time 22:00/],
    ['admin without force sees why', book({ machine_id: 3, start_time: at('13:00') }), admin, 'BAY_UNAVAILABLE', /^bay 3 is in error/],
    ['admin force on a broken bay', book({ machine_id: 3, start_time: at('13:00'), force: true }), admin, null, null],
    ['admin force past close', book({ machine_id: 9, start_time: at('21:30'), duration: 3600, force: true }), admin, null, null],
    ['kiosk may not force', book({ machine_id: 4, force: true }), kiosk, 'SESSION_FORBIDDEN', /^force: only an admin/],
    ['a maintenance block on a broken bay', book({ machine_id: 4, status: 'maintenance', start_time: at('14:00') }), admin, null, null],
  ]
  for (const [name, session, who, code, message] of cases) {
    const r = await w.scheduling.submit(session, who)
    if (code === null) {
      t.ok(r.ok, `${name}: accepted${r.ok ? '' : ` (${r.message})`}`)
      continue
    }
    t.notOk(r.ok, `${name}: refused`)
    if (!r.ok) {
      t.equal(r.code, code, `${name}: ${code}`)
      t.match(r.message, message!, name)
    }
  }
  const stored = w.scheduling.list().length
  t.equal(stored, cases.filter((c) => c[3] === null).length, 'refusals change nothing')
})

t.test('changes: shortening a session on a bay that failed is fine; extending or moving onto it is not', async (t) => {
  const problems = new Map<number, BayProblem>()
  const w = await buildWorld(t, { bayHealth: (id) => problems.get(id) })
  const r = await w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: at('11:00'), duration: 3600 }, kiosk)
  if (!r.ok) return t.fail(r.message)
  const id = r.value.session.session_id
  problems.set(1, { reason: 'offline', until: null, since: at('10:00') })
  t.ok((await w.scheduling.submit({ machine_id: 1, session_id: id, status: 'reserved', start_time: at('11:00'), duration: 1800 }, kiosk)).ok, 'shorter: kept')
  const longer = await w.scheduling.submit({ machine_id: 1, session_id: id, status: 'reserved', start_time: at('11:00'), duration: 7200 }, kiosk)
  t.match(longer, { ok: false, code: 'BAY_UNAVAILABLE' }, 'selling more minutes on a dead bay is refused')
  problems.set(2, { reason: 'error', until: null })
  const moved = await w.scheduling.submit({ machine_id: 2, session_id: id, status: 'reserved', start_time: at('11:00'), duration: 1800 }, kiosk)
  t.match(moved, { ok: false, code: 'BAY_UNAVAILABLE', message: /^bay 2 is in error/ })
  t.ok((await w.scheduling.submit({ machine_id: 3, session_id: id, status: 'reserved', start_time: at('11:00'), duration: 1800 }, kiosk)).ok, 'moved to a healthy bay')
})

t.test('availability never offers an unhealthy bay or a time outside opening hours; the grid shows them unavailable', async (t) => {
  const problems = new Map<number, BayProblem>([
    [1, { reason: 'maintenance', until: at('12:00'), holder: 'an admin override (admin_portal)' }],
    [2, { reason: 'offline', until: null, since: at('09:00') }],
  ])
  const w = await buildWorld(t, { env: { HUB_OPENING_HOURS: '08:00-22:00' }, bayHealth: (id) => problems.get(id) })
  const now = w.scheduling.availability({ bays: 1, minutes: 60, limit: 50 })
  t.ok(now.ok)
  if (!now.ok) return
  t.ok(now.value.length > 0)
  for (const o of now.value) {
    t.notOk(o.machine_id.includes(2), 'the offline bay is never offered')
    if (o.machine_id.includes(1)) t.ok(o.start_time >= at('12:00'), 'the maintenance bay only from its end')
  }
  const pair = w.scheduling.availability({ bays: 2, minutes: 30, limit: 10 })
  t.ok(pair.ok && pair.value.every((o) => !o.machine_id.includes(2)), 'pairs skip it too')
  const late = w.scheduling.availability({ bays: 1, minutes: 60, near: at('21:30'), limit: 50 })
  t.ok(late.ok)
  if (late.ok) {
    t.ok(late.value.length > 0)
    for (const o of late.value) t.ok(outsideHours('Europe/London', '08:00-22:00', o.start_time, o.end_time) === undefined, 'inside opening hours')
  }
  const grid = w.scheduling.scheduleFor('2026-06-01')
  t.ok(grid.ok)
  if (!grid.ok) return
  const row = (label: string) => grid.value.schedule.find((r) => r[0] === label)!
  t.same(row('10:00')[1], { machine_id: 1, status: 'unavailable', reason: 'bay 1 is in maintenance until 12:00 (held by an admin override (admin_portal))' })
  t.same(row('12:00')[1], { machine_id: 1, status: 'available' }, 'free again once the override ends')
  t.match(row('21:55')[2], { machine_id: 2, status: 'unavailable', reason: /^bay 2 is offline/ })
  t.same(row('09:55')[2], { machine_id: 2, status: 'available' }, 'slots already over stay as they were')
  t.same(row('10:00')[3], { machine_id: 3, status: 'available' })
})

t.test('a new session needs start_time; an update keeps its start', async (t) => {
  const w = await buildWorld(t)
  const r = await w.scheduling.submit({ machine_id: 1, status: 'reserved', duration: 600 }, kiosk)
  t.match(r, { ok: false, code: 'SESSION_INVALID', field: 'start_time', message: 'start_time: is required for a new session' })
  const made = await w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: at('11:00'), duration: 600 }, kiosk)
  t.match(made, { ok: true, value: { change: 'created', replay: false } })
  if (!made.ok) return
  const id = made.value.session.session_id
  const longer = await w.scheduling.submit({ machine_id: 1, session_id: id, status: 'reserved', duration: 1200 }, kiosk)
  t.match(longer, { ok: true, value: { change: 'updated', session: { start_time: at('11:00'), duration: 1200 } } })
  const again = await w.scheduling.submit({ machine_id: 1, session_id: id, status: 'reserved', duration: 1200 }, kiosk)
  t.match(again, { ok: true, value: { change: 'replay', replay: true } })
  const cancelled = await w.scheduling.cancel(id, kiosk)
  t.match(cancelled, { ok: true, value: { change: 'cancelled' } })
})
