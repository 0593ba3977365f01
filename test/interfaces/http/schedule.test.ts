import t from 'tap'
import { auth, buildWorld, inMinutes } from './world.js'

t.test('GET /api/schedule: every role reads it; date validated', async (t) => {
  const w = await buildWorld(t)
  for (const as of ['admin', 'kiosk', 'reservation'] as const) {
    const res = await w.app.inject({ url: '/api/schedule?date=2026-01-10', headers: auth(as) })
    t.equal(res.statusCode, 200, as)
    t.equal(res.json().date, '2026-01-10')
    t.equal(res.json().machines.length, 20)
  }
  t.equal((await w.app.inject({ url: '/api/schedule', headers: auth('kiosk') })).json().date, '2026-01-10', 'today by default')
  t.equal((await w.app.inject({ url: '/api/schedule' })).statusCode, 401)
  const bad = await w.app.inject({ url: '/api/schedule?date=tomorrow', headers: auth('kiosk') })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /^query\.date: /)
})

t.test('GET /api/schedule: runs by default, the seed\'s slot rows with format=slots, ETag and 304 (issue 17)', async (t) => {
  const w = await buildWorld(t)
  const booked = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('kiosk'), payload: { machine_id: [3, 4], status: 'reserved', start_time: inMinutes(w, 60), duration: 1800 } })
  t.equal(booked.statusCode, 201, booked.body)
  const id = booked.json().session_id
  const runs = await w.app.inject({ url: '/api/schedule?date=2026-01-10', headers: auth('kiosk') })
  t.equal(runs.statusCode, 200)
  t.match(runs.headers['content-type'], /^application\/json/)
  const body = runs.json()
  t.match(body, { format: 'runs', date: '2026-01-10', slot_minutes: 5, timezone: w.config.timezone, machines: w.config.machineIds })
  t.equal(body.runs.length, 20, 'one list of runs per bay')
  const reserved = body.statuses.indexOf('reserved')
  const first = (inMinutes(w, 60) - body.first_slot) / 300
  t.same([body.runs[2], body.runs[3]], [[[first, 6, reserved, id]], [[first, 6, reserved, id]]], 'the group booking is one run on each of its bays')
  t.same(body.runs[0], [], 'a free bay has no runs')

  const slots = await w.app.inject({ url: '/api/schedule?date=2026-01-10&format=slots', headers: auth('kiosk') })
  t.equal(slots.statusCode, 200)
  const grid = slots.json()
  t.notOk('format' in grid, 'the seed\'s shape, unchanged')
  t.equal(grid.schedule.length, body.slots)
  t.same(grid.schedule[first][3], { machine_id: 3, status: 'reserved', session_id: id })
  const { expandRuns } = await import('../../../src/scheduling/grid-runs.js')
  t.same(expandRuns(body), grid, 'the runs expand to the slot rows')
  t.ok(runs.body.length * 20 < slots.body.length, `runs ${runs.body.length} B vs slots ${slots.body.length} B`)

  const etag = runs.headers.etag as string
  t.match(etag, /^"[\w-]+"$/, 'a strong ETag')
  t.not(slots.headers.etag, etag, 'each format its own tag')
  t.equal(runs.headers['cache-control'], 'no-cache')
  const again = await w.app.inject({ url: '/api/schedule?date=2026-01-10', headers: { ...auth('kiosk'), 'if-none-match': etag } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '', 'no body')
  t.equal(again.headers.etag, etag)
  t.equal((await w.app.inject({ url: '/api/schedule?date=2026-01-10', headers: { ...auth('kiosk'), 'if-none-match': `"x", W/${etag}` } })).statusCode, 304, 'a list, weak comparison')
  t.equal((await w.app.inject({ url: '/api/schedule?date=2026-01-10', headers: { ...auth('kiosk'), 'if-none-match': '"other"' } })).statusCode, 200)

  t.equal((await w.app.inject({ method: 'DELETE', url: `/api/sessions/${id}`, headers: auth('kiosk') })).statusCode, 200)
  const changed = await w.app.inject({ url: '/api/schedule?date=2026-01-10', headers: { ...auth('kiosk'), 'if-none-match': etag } })
  t.equal(changed.statusCode, 200, 'a change answers the new reply')
  t.not(changed.headers.etag, etag)
  t.same(changed.json().runs[2], [], 'the cancelled session is gone')

  const bad = await w.app.inject({ url: '/api/schedule?date=2026-01-10&format=rows', headers: auth('kiosk') })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().message, 'query.format: must be one of runs, slots')
})

t.test('GET /api/availability: options for bays x minutes', async (t) => {
  const w = await buildWorld(t)
  const res = await w.app.inject({ url: `/api/availability?bays=2&minutes=60&near=${inMinutes(w, 0)}`, headers: auth('kiosk') })
  t.equal(res.statusCode, 200, res.body)
  const { options } = res.json()
  t.ok(options.length > 0)
  t.same(options[0].machine_id, [1, 2])
  t.equal(options[0].end_time - options[0].start_time, 3600)
  const defaultNear = await w.app.inject({ url: '/api/availability?bays=1&minutes=30', headers: auth('reservation') })
  t.equal(defaultNear.json().options[0].start_time, inMinutes(w, 0), 'near defaults to the hub clock')
  const missing = await w.app.inject({ url: '/api/availability?minutes=30', headers: auth('kiosk') })
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().message, 'query.bays: is required')
  const wrong = await w.app.inject({ url: '/api/availability?bays=two&minutes=30', headers: auth('kiosk') })
  t.equal(wrong.json().message, 'query.bays: must be integer')
  const tooMany = await w.app.inject({ url: '/api/availability?bays=30&minutes=30', headers: auth('kiosk') })
  t.equal(tooMany.statusCode, 400)
  t.equal((await w.app.inject({ url: '/api/availability?bays=1&minutes=30' })).statusCode, 401)
})
