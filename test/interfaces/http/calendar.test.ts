/**
 * GET/PUT /api/calendar (issue 14) and what the calendar does at the HTTP door: hostile input
 * bounded and named, refusal of a change that affects bookings unless confirmed (then listed and
 * audited), bookings and availability per channel, the schedule's closed / walk-in cells.
 */
import t from 'tap'
import { auth, buildWorld, signIn } from './world.js'

// The world's clock: Saturday 2026-01-10 10:00 UTC. Tuesday is 2026-01-13.
const TUE = Date.UTC(2026, 0, 13) / 1000
const at = (hm: string, day = TUE) => day + Number(hm.slice(0, 2)) * 3600 + Number(hm.slice(3)) * 60
const hours = { mon: '07:00-22:00', tue: '07:00-22:00', wed: '07:00-22:00', thu: '07:00-22:00', fri: '07:00-22:00', sat: '08:00-20:00', sun: '08:00-20:00' }
const mowing = { bays: '1-20', days: ['tue'], from: '07:00', to: '09:00', kind: 'closed', reason: 'mowing' }
const league = { bays: '1-5', days: ['tue'], from: '18:00', to: '21:00', kind: 'walk_in_only', reason: 'junior league' }

t.test('GET is the setting until a manager saves one; PUT replaces it; roles', async (t) => {
  const w = await buildWorld(t, { env: { HUB_OPENING_HOURS: '08:00-22:00' } })
  const manager = await signIn(w, 'mia', 'manager')
  const staff = await signIn(w, 'sam', 'staff')
  const first = await w.app.inject({ method: 'GET', url: '/api/calendar', headers: manager })
  t.equal(first.statusCode, 200)
  t.same(first.json().calendar.hours.tue, '08:00-22:00', 'a fresh install: HUB_OPENING_HOURS every day')
  t.same(first.json().updated_by, null)
  for (const [who, status] of [[staff, 403], [auth('kiosk'), 403], [auth('reservation'), 403], [{}, 401]] as const) {
    t.equal((await w.app.inject({ method: 'GET', url: '/api/calendar', headers: who })).statusCode, status)
    t.equal((await w.app.inject({ method: 'PUT', url: '/api/calendar', headers: who, payload: { hours, special_days: [], windows: [] } })).statusCode, status)
  }
  const put = await w.app.inject({ method: 'PUT', url: '/api/calendar', headers: manager, payload: { hours, special_days: [], windows: [mowing], note: 'spring plan' } })
  t.equal(put.statusCode, 200, put.body)
  t.same(put.json().calendar.windows, [mowing])
  t.equal(put.json().updated_by, 'staff:mia')
  t.same(put.json().affected, [])
  t.same((await w.app.inject({ method: 'GET', url: '/api/calendar', headers: auth('admin') })).json().calendar.windows, [mowing], 'admin reads it')
  const page = await w.audit.query({ kind: 'calendar.changed' })
  t.equal(page.entries.length, 1, 'one audit entry')
  t.match(page.entries[0], { actor: 'staff:mia', reason: 'spring plan', after: { windows: [mowing] }, before: null })
})

t.test('hostile input: bounded, named, nothing changed', async (t) => {
  const w = await buildWorld(t)
  const base = { hours, special_days: [], windows: [] }
  const window = (extra: object) => ({ ...base, windows: [{ ...mowing, ...extra }] })
  const cases: Array<[string, object, RegExp]> = [
    ['too many windows', { ...base, windows: Array.from({ length: 201 }, () => mowing) }, /^body\.windows: must not have more than 200 items/],
    ['reason too long', window({ reason: 'x'.repeat(121) }), /^body\.windows\[0\]\.reason: /],
    ['bays not a range', window({ bays: 'all' }), /^body\.windows\[0\]\.bays: /],
    ['unknown bay', window({ bays: '1-21' }), /^windows\[0\]\.bays: bay 21 is not a bay of this venue$/],
    ['a huge range is not expanded', window({ bays: '1-9999' }), /^windows\[0\]\.bays: bay 9999/],
    ['unknown kind', window({ kind: 'maybe' }), /^body\.windows\[0\]\.kind: /],
    ['bad weekday', window({ days: ['tuesday'] }), /^body\.windows\[0\]\.days/],
    ['repeated weekday', window({ days: ['tue', 'tue'] }), /^body\.windows\[0\]\.days/],
    ['empty band', window({ from: '09:00', to: '09:00' }), /^windows\[0\]\.to: /],
    ['hour 24:30', window({ to: '24:30' }), /^body\.windows\[0\]\.to: /],
    ['unknown field', window({ colour: 'red' }), /colour/],
    ['hours backwards', { ...base, hours: { ...hours, mon: '22:00-07:00' } }, /^hours\.mon: /],
    ['a weekday missing', { ...base, hours: { mon: '07:00-22:00' } }, /^body\.hours\.tue: is required/],
    ['special day twice', { ...base, special_days: [{ date: '2026-12-25', hours: 'closed', reason: 'x' }, { date: '2026-12-25', hours: 'closed', reason: 'x' }] }, /^special_days\[1\]\.date: 2026-12-25 appears twice$/],
    ['not a date', { ...base, special_days: [{ date: '2026-02-31', hours: 'closed', reason: 'x' }] }, /^special_days\[0\]\.date: /],
    ['too many special days', { ...base, special_days: Array.from({ length: 401 }, (_, i) => ({ date: '2026-01-01', hours: 'closed', reason: String(i) })) }, /^body\.special_days: must not have more than 400 items/],
    ['no windows list', { hours, special_days: [] }, /windows/],
  ]
  for (const [name, payload, message] of cases) {
    const res = await w.app.inject({ method: 'PUT', url: '/api/calendar', headers: auth('admin'), payload })
    t.ok(res.statusCode === 400 || res.statusCode === 413, `${name}: ${res.statusCode} ${res.body.slice(0, 200)}`)
    if (res.statusCode === 400) t.match(res.json().message, message, name)
  }
  t.equal(w.scheduling.calendar().updated_at, null, 'nothing was saved')
  t.equal((await w.audit.query({ kind: 'calendar.changed' })).entries.length, 0, 'nothing audited')
})

t.test('a change over booked sessions: refused unless confirmed, then listed', async (t) => {
  const w = await buildWorld(t)
  const booked = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('reservation'), payload: { machine_id: 4, status: 'reserved', start_time: at('08:00'), duration: 3600 } })
  t.equal(booked.statusCode, 201)
  const walkIn = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('kiosk'), payload: { machine_id: 2, status: 'reserved', start_time: at('18:30'), duration: 1800 } })
  t.equal(walkIn.statusCode, 201)
  const body = { hours, special_days: [], windows: [mowing, league] }
  const refused = await w.app.inject({ method: 'PUT', url: '/api/calendar', headers: auth('admin'), payload: body })
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().error, 'CALENDAR_AFFECTS_SESSIONS')
  t.match(refused.json().message, /^confirm: 1 booked session would fall outside the new calendar: session \d+ \(bay 4, 08:00-09:00\): bay 4 is closed for mowing/)
  t.same(refused.json().affected.map((a: { session_id: number }) => a.session_id), [booked.json().session_id], 'the kiosk walk-in in the walk-in window is not affected')
  t.same(w.scheduling.calendar().calendar.windows, [], 'nothing changed')
  const confirmed = await w.app.inject({ method: 'PUT', url: '/api/calendar', headers: auth('admin'), payload: { ...body, confirm: true } })
  t.equal(confirmed.statusCode, 200)
  t.same(confirmed.json().affected.map((a: { session_id: number }) => a.session_id), [booked.json().session_id])
  const entry = (await w.audit.query({ kind: 'calendar.changed' })).entries[0]
  t.match(entry, { actor: 'token:admin_portal', machine_id: [4], after: { affected_sessions: [booked.json().session_id] } })
})

t.test('bookings and availability obey the calendar per channel; the grid shades it', async (t) => {
  const w = await buildWorld(t)
  t.equal((await w.app.inject({ method: 'PUT', url: '/api/calendar', headers: auth('admin'), payload: { hours, special_days: [{ date: '2026-01-14', hours: 'closed', reason: 'storm' }], windows: [mowing, league] } })).statusCode, 200)
  const book = (as: 'kiosk' | 'reservation' | 'admin', body: object) =>
    w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth(as), payload: { status: 'reserved', duration: 1800, ...body } })
  const closed = await book('reservation', { machine_id: 3, start_time: at('08:00') })
  t.equal(closed.statusCode, 409)
  t.same(closed.json().error, 'BAY_CLOSED')
  t.match(closed.json().message, /^start_time: bay 3 is closed for mowing Tue 2026-01-13 07:00-09:00 \(calendar window 1: bays 1-20, tue 07:00-09:00\)$/)
  t.equal((await book('kiosk', { machine_id: 3, start_time: at('08:00') })).json().error, 'BAY_CLOSED', 'nobody books a closed window')
  t.equal((await book('admin', { machine_id: 3, start_time: at('08:00') })).json().error, 'BAY_CLOSED', 'admins are told too')
  t.equal((await book('admin', { machine_id: 3, start_time: at('08:00'), force: true })).statusCode, 201, 'and may force')
  const walkIn = await book('reservation', { machine_id: 3, start_time: at('18:00') })
  t.equal(walkIn.json().error, 'WALK_IN_ONLY')
  t.match(walkIn.json().message, /bay 3 is walk-in only \(junior league\)/)
  t.equal((await book('kiosk', { machine_id: 3, start_time: at('18:00') })).statusCode, 201, 'the kiosk books a walk-in window')
  t.equal((await book('reservation', { machine_id: 6, start_time: at('18:00') })).statusCode, 201, 'other bays are bookable')
  t.match((await book('reservation', { machine_id: 6, start_time: at('10:00', TUE + 86_400) })).json(), { error: 'SESSION_OUTSIDE_HOURS', message: /closed on Wed 2026-01-14 \(storm\)/ })
  const manager = await signIn(w, 'mia', 'manager')
  t.equal((await w.app.inject({ method: 'POST', url: '/api/sessions', headers: manager, payload: { machine_id: 4, status: 'reserved', start_time: at('18:00'), duration: 1800 } })).statusCode, 201, 'staff book walk-in windows')

  const options = async (as: 'kiosk' | 'reservation', near: number, minutes = 30) =>
    (await w.app.inject({ method: 'GET', url: `/api/availability?bays=1&minutes=${minutes}&near=${near}&limit=50`, headers: auth(as) })).json().options as Array<{ machine_id: number[]; start_time: number; end_time: number }>
  for (const o of await options('kiosk', at('08:00'))) t.ok(o.start_time >= at('09:00') || o.end_time <= at('07:00'), `kiosk option at ${new Date(o.start_time * 1000).toISOString()} avoids the mowing`)
  const evening = await options('reservation', at('18:00'))
  t.ok(evening.length > 0)
  for (const o of evening) t.ok(o.machine_id[0]! > 5 || o.end_time <= at('18:00') || o.start_time >= at('21:00'), 'reservations are not offered the walk-in bays')
  t.ok((await options('kiosk', at('18:00'))).some((o) => o.machine_id[0]! <= 5 && o.start_time >= at('18:00') && o.start_time < at('21:00')), 'the kiosk is')

  const grid = (await w.app.inject({ method: 'GET', url: '/api/schedule?date=2026-01-13&format=slots', headers: auth('kiosk') })).json()
  const row = (hm: string) => grid.schedule.find((r: unknown[]) => r[0] === hm)
  t.same(row('08:00')[1], { machine_id: 1, status: 'closed', reason: 'closed: mowing' })
  t.same(row('08:00')[3], { machine_id: 3, status: 'reserved', session_id: row('08:00')[3].session_id }, 'a taken cell keeps its status')
  t.same(row('09:00')[1], { machine_id: 1, status: 'available' }, 'old readers see available outside the windows')
  t.same(row('18:30')[1], { machine_id: 1, status: 'walk_in_only', reason: 'walk-in only: junior league' })
  t.same(row('18:00')[6], { machine_id: 6, status: 'reserved', session_id: row('18:00')[6].session_id })
  t.same(row('18:30')[6], { machine_id: 6, status: 'available' }, 'outside the walk-in bays')
  // The default (runs) carries the same cells, each reason once.
  const runs = (await w.app.inject({ method: 'GET', url: '/api/schedule?date=2026-01-13', headers: auth('kiosk') })).json()
  t.same(runs.reasons.filter((r: string) => r === 'closed: mowing').length, 1)
  const { expandRuns } = await import('../../../src/scheduling/grid-runs.js')
  t.same(expandRuns(runs), grid, 'runs expand to the slot rows')
  const storm = (await w.app.inject({ method: 'GET', url: '/api/schedule?date=2026-01-14&format=slots', headers: auth('kiosk') })).json()
  t.ok(storm.schedule.length > 0 && storm.schedule.every((r: Array<string | { status: string }>) => r.slice(1).every((c) => (c as { status: string }).status === 'closed')), 'a closed day: every cell closed')
  t.same(storm.schedule[0][1].reason, 'closed: storm')
})
