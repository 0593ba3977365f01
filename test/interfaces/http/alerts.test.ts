import t from 'tap'
import { auth, buildWorld, connectMachine, disconnectMachine } from './world.js'

t.test('GET /api/alerts and POST /api/alerts/:id/ack', async (t) => {
  const w = await buildWorld(t)
  await connectMachine(w, 2, { ball_level: 'low' })
  await connectMachine(w, 5)
  await w.clock.advance(60_000)
  await disconnectMachine(w, 5)
  const list = await w.app.inject({ url: '/api/alerts', headers: auth('admin') })
  t.equal(list.statusCode, 200)
  t.match(list.json(), [{ kind: 'offline', machine_id: 5 }, { kind: 'ball_low', machine_id: 2 }], 'newest first')
  const a1 = list.json()[1].alert_id
  t.equal((await w.app.inject({ url: '/api/alerts', headers: auth('kiosk') })).statusCode, 403)
  t.equal((await w.app.inject({ url: '/api/alerts' })).statusCode, 401)

  const ack = await w.app.inject({ method: 'POST', url: `/api/alerts/${a1}/ack`, headers: auth('admin') })
  t.equal(ack.statusCode, 200)
  t.equal(ack.json().acknowledged, true)
  const unknown = await w.app.inject({ method: 'POST', url: '/api/alerts/zz/ack', headers: auth('admin') })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error, 'ALERT_UNKNOWN')
  t.equal((await w.app.inject({ method: 'POST', url: `/api/alerts/${a1}/ack`, headers: auth('reservation') })).statusCode, 403)
})
