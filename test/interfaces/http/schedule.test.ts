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
