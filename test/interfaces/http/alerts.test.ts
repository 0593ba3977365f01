import t from 'tap'
import { auth, buildWorld } from './world.js'

t.test('GET /api/alerts and POST /api/alerts/:id/ack', async (t) => {
  const w = await buildWorld(t)
  w.machines.raise({ alert_id: 'a1', kind: 'ball_low', machine_id: 2, message: 'bay 2 balls low', raised_at: 100, acknowledged: false, cleared_at: null })
  w.machines.raise({ alert_id: 'a2', kind: 'offline', machine_id: 5, message: 'bay 5 offline', raised_at: 200, acknowledged: false, cleared_at: null })
  const list = await w.app.inject({ url: '/api/alerts', headers: auth('admin') })
  t.equal(list.statusCode, 200)
  t.same(list.json().map((a: { alert_id: string }) => a.alert_id), ['a2', 'a1'], 'newest first')
  t.equal((await w.app.inject({ url: '/api/alerts', headers: auth('kiosk') })).statusCode, 403)
  t.equal((await w.app.inject({ url: '/api/alerts' })).statusCode, 401)

  const ack = await w.app.inject({ method: 'POST', url: '/api/alerts/a1/ack', headers: auth('admin') })
  t.equal(ack.statusCode, 200)
  t.equal(ack.json().acknowledged, true)
  const unknown = await w.app.inject({ method: 'POST', url: '/api/alerts/zz/ack', headers: auth('admin') })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error, 'ALERT_UNKNOWN')
  t.equal((await w.app.inject({ method: 'POST', url: '/api/alerts/a1/ack', headers: auth('reservation') })).statusCode, 403)
})
