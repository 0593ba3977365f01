import t from 'tap'
import { auth, buildWorld, connectMachine, inMinutes, runFor, type As, type World } from './world.js'

async function book(w: World, as: As, body: object) {
  return w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth(as), payload: body })
}

t.test('POST /api/sessions books, and the owner is the token', async (t) => {
  const w = await buildWorld(t)
  const res = await book(w, 'kiosk', { machine_id: [3, 4], status: 'reserved', start_time: inMinutes(w, 30), duration: 3600 })
  t.equal(res.statusCode, 201, res.body)
  const s = res.json()
  t.same(s.machine_id, [3, 4])
  t.equal(s.origin_node, 'kiosk_interface')
  t.equal(w.scheduling.get(s.session_id)?.status, 'reserved', 'stored by the scheduling module')
})

t.test('POST /api/sessions: roles', async (t) => {
  const w = await buildWorld(t)
  const body = { machine_id: 1, status: 'reserved', start_time: w.clock.nowSeconds(), duration: 600 }
  t.equal((await book(w, 'none', body)).statusCode, 401, 'no token')
  const bad = await book(w, 'bad', body)
  t.equal(bad.statusCode, 401)
  t.same(bad.json(), { error: 'UNAUTHORIZED', message: 'unknown or revoked token' })
  const block = await book(w, 'reservation', { ...body, status: 'maintenance' })
  t.equal(block.statusCode, 403, 'only admin blocks bays')
  t.match(block.json(), { error: 'FORBIDDEN', message: /admin/ })
  t.equal((await book(w, 'admin', { ...body, status: 'maintenance' })).statusCode, 201)
  t.equal((await book(w, 'reservation', { machine_id: 2, status: 'reserved', start_time: w.clock.nowSeconds(), duration: 600 })).statusCode, 201)
})

t.test('POST /api/sessions: 400 names the field', async (t) => {
  const w = await buildWorld(t)
  const cases: Array<[object, RegExp]> = [
    [{ status: 'reserved', duration: 600 }, /^body\.machine_id: is required$/],
    [{ machine_id: 'x', status: 'reserved', duration: 600 }, /^body\.machine_id: must be integer or must be array$/],
    [{ machine_id: [1, 0], status: 'reserved', duration: 600 }, /^body\.machine_id\[1\]: must be >= 1$/],
    [{ machine_id: 1, status: 'booked', duration: 600 }, /^body\.status: must be one of reserved, maintenance, cancelled$/],
    [{ machine_id: 1, status: 'reserved', duration: 5 }, /^body\.duration: must be >= 60$/],
    [{ machine_id: 1, status: 'reserved' }, /^duration: is required/],
    [{ machine_id: 1, status: 'reserved', duration: 600 }, /^start_time: is required for a new session$/],
    [{ machine_id: [1, 3], status: 'reserved', duration: 600 }, /^machine_id: bays 1, 3 are not next to each other/],
  ]
  for (const [body, message] of cases) {
    const res = await book(w, 'kiosk', body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.match(res.json().message, message)
  }
  const notJson = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: { ...auth('kiosk'), 'content-type': 'application/json' }, payload: '{nope' })
  t.equal(notJson.statusCode, 400)
  t.equal(typeof notJson.json().error, 'string')
})

t.test('POST /api/sessions: 409 names the conflict, 404 for an unknown bay', async (t) => {
  const w = await buildWorld(t)
  const first = (await book(w, 'kiosk', { machine_id: [5, 6], status: 'reserved', start_time: inMinutes(w, 10), duration: 3600 })).json()
  const clash = await book(w, 'reservation', { machine_id: [6, 7], status: 'reserved', start_time: inMinutes(w, 40), duration: 600 })
  t.equal(clash.statusCode, 409)
  t.equal(clash.json().error, 'SESSION_CONFLICT')
  t.match(clash.json().message, new RegExp(`bay 6 .*session ${first.session_id}`))
  const unknown = await book(w, 'kiosk', { machine_id: 99, status: 'reserved', start_time: w.clock.nowSeconds(), duration: 600 })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error, 'MACHINE_UNKNOWN')
})

t.test('GET /api/sessions/:id: own sessions for kiosk, all for admin', async (t) => {
  const w = await buildWorld(t)
  const s = (await book(w, 'kiosk', { machine_id: 1, status: 'reserved', start_time: w.clock.nowSeconds(), duration: 600 })).json()
  const get = (as: As, id: number | string = s.session_id) => w.app.inject({ url: `/api/sessions/${id}`, headers: auth(as) })
  t.equal((await get('kiosk')).json().session_id, s.session_id)
  t.equal((await get('admin')).statusCode, 200)
  const other = await get('kiosk2')
  t.equal(other.statusCode, 403)
  t.equal(other.json().error, 'SESSION_FORBIDDEN')
  t.equal((await get('none')).statusCode, 401)
  t.equal((await get('admin', 424242)).statusCode, 404)
  const bad = await get('admin', 'abc')
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().message, 'params.id: must be integer')
})

t.test('PATCH /api/sessions/:id moves and extends; others may not', async (t) => {
  const w = await buildWorld(t)
  const s = (await book(w, 'kiosk', { machine_id: 1, status: 'reserved', start_time: inMinutes(w, 60), duration: 1800 })).json()
  const patch = (as: As, body: object, id: number | string = s.session_id) =>
    w.app.inject({ method: 'PATCH', url: `/api/sessions/${id}`, headers: auth(as), payload: body })

  const moved = await patch('kiosk', { machine_id: 2, start_time: inMinutes(w, 90) })
  t.equal(moved.statusCode, 200, moved.body)
  t.same(moved.json().machine_id, [2])
  t.equal(moved.json().start_time, inMinutes(w, 90))
  const extended = await patch('admin', { duration: 3600 })
  t.equal(extended.json().end_time, inMinutes(w, 150))

  const forbidden = await patch('kiosk2', { duration: 600 })
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.json().error, 'SESSION_FORBIDDEN')
  t.equal((await patch('none', { duration: 600 })).statusCode, 401)
  const empty = await patch('kiosk', {})
  t.equal(empty.statusCode, 400)
  t.match(empty.json().message, /^body: must not have fewer than 1 properties$/)
  const extraField = await patch('kiosk', { colour: 'red' })
  t.equal(extraField.statusCode, 400)
  t.equal(extraField.json().message, 'body.colour: is not allowed')
  t.equal((await patch('kiosk', { duration: 600 }, 9999)).statusCode, 404)

  await book(w, 'reservation', { machine_id: 3, status: 'reserved', start_time: inMinutes(w, 90), duration: 600 })
  const clash = await patch('kiosk', { machine_id: 3 })
  t.equal(clash.statusCode, 409)
  t.match(clash.json().message, /bay 3/)
})

t.test('DELETE /api/sessions/:id cancels (idempotent); 409 once the session has ended', async (t) => {
  const w = await buildWorld(t)
  const s = (await book(w, 'reservation', { machine_id: 4, status: 'reserved', start_time: inMinutes(w, 5), duration: 600 })).json()
  const del = (as: As, id: number = s.session_id) => w.app.inject({ method: 'DELETE', url: `/api/sessions/${id}`, headers: auth(as) })
  t.equal((await del('kiosk')).statusCode, 403, 'not the owner')
  t.equal((await del('none')).statusCode, 401)
  const ok = await del('reservation')
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().status, 'cancelled')
  const again = await del('admin')
  t.equal(again.statusCode, 200, 'a repeated cancel is an idempotent repeat (DESIGN §4)')
  t.equal(again.json().status, 'cancelled')
  t.equal((await del('admin', 777777)).statusCode, 404)
  const patchEnded = await w.app.inject({ method: 'PATCH', url: `/api/sessions/${s.session_id}`, headers: auth('admin'), payload: { duration: 900 } })
  t.equal(patchEnded.statusCode, 409, 'a cancelled session is not revived by a PATCH')
  t.equal(patchEnded.json().error, 'SESSION_ENDED')
  t.equal(w.scheduling.get(s.session_id)?.status, 'cancelled')

  const short = (await book(w, 'kiosk', { machine_id: 5, status: 'reserved', start_time: w.clock.nowSeconds(), duration: 600 })).json()
  await runFor(w, 11 * 60_000, 30_000)
  t.equal(w.scheduling.get(short.session_id)?.status, 'completed', 'the lifecycle ran on the fake clock')
  const late = await w.app.inject({ method: 'DELETE', url: `/api/sessions/${short.session_id}`, headers: auth('kiosk') })
  t.equal(late.statusCode, 409)
  t.equal(late.json().error, 'SESSION_ENDED')
})

t.test('GET /api/sessions?date= lists a day; kiosk sees its own', async (t) => {
  const w = await buildWorld(t)
  await book(w, 'kiosk', { machine_id: 1, status: 'reserved', start_time: inMinutes(w, 10), duration: 600 })
  await book(w, 'reservation', { machine_id: 2, status: 'reserved', start_time: inMinutes(w, 20), duration: 600 })
  await book(w, 'reservation', { machine_id: 2, status: 'reserved', start_time: inMinutes(w, 24 * 60), duration: 600 })
  const list = (as: As, query = '') => w.app.inject({ url: `/api/sessions${query}`, headers: auth(as) })
  t.equal((await list('admin')).json().length, 2, 'today by default (2026-01-10 UTC)')
  t.equal((await list('admin', '?date=2026-01-11')).json().length, 1)
  t.equal((await list('admin', '?date=2026-01-10&machine_id=2')).json().length, 1)
  t.equal((await list('admin', '?status=cancelled')).json().length, 0)
  const mine = (await list('kiosk')).json()
  t.same(mine.map((s: { origin_node: string }) => s.origin_node), ['kiosk_interface'])
  const bad = await list('admin', '?date=10.01.2026')
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /^query\.date: must match pattern/)
  t.equal((await list('none')).statusCode, 401)
})

t.test('POST /api/sessions: ids are the hub\'s; same session_id + same content = 200 repeat, one session', async (t) => {
  const w = await buildWorld(t)
  const create = { machine_id: 8, status: 'reserved', start_time: inMinutes(w, 30), duration: 1800 }
  const first = await book(w, 'reservation', create)
  t.equal(first.statusCode, 201)
  const body = { ...create, session_id: first.json().session_id }
  const again = await book(w, 'reservation', body)
  t.equal(again.statusCode, 200, 'idempotent repeat (DESIGN §4)')
  t.same(again.json(), first.json())
  t.equal(w.scheduling.list().length, 1, 'no duplicate')
  const other = await book(w, 'kiosk', { ...body, duration: 3600 })
  t.equal(other.statusCode, 403, 'another node may not change it through POST either')
  const chosen = await book(w, 'kiosk', { ...create, machine_id: 9, session_id: 9007199254740991 })
  t.equal(chosen.statusCode, 400, 'an id above 2^31-1 is refused by the schema')
  t.match(chosen.json().message, /^body\.session_id: must be <= 2147483647$/)
  const unknown = await book(w, 'kiosk', { ...create, machine_id: 9, session_id: 99999 })
  t.equal(unknown.statusCode, 404, 'naming an unknown id never creates')
  t.same(unknown.json(), { error: 'SESSION_NOT_FOUND', message: 'session_id: session 99999 does not exist; omit session_id to create one' })
  const next = await book(w, 'kiosk', { ...create, machine_id: 9 })
  t.equal(next.json().session_id, first.json().session_id + 1, 'the allocator did not move')
})

t.test('POST /api/sessions: Idempotency-Key makes a retry safe without choosing the id', async (t) => {
  const w = await buildWorld(t)
  const body = { machine_id: 5, status: 'reserved', start_time: inMinutes(w, 30), duration: 1800 }
  const post = (key: string, payload: object = body, as: As = 'kiosk') =>
    w.app.inject({ method: 'POST', url: '/api/sessions', headers: { ...auth(as), 'idempotency-key': key }, payload })
  const first = await post('k-1')
  t.equal(first.statusCode, 201)
  const retry = await post('k-1')
  t.equal(retry.statusCode, 201, 'the retry gets the first answer again, status included')
  t.same(retry.json(), first.json())
  t.equal(w.scheduling.list().length, 1, 'booked once')
  const reused = await post('k-1', { ...body, duration: 3600 })
  t.equal(reused.statusCode, 422)
  t.same(reused.json().error, 'IDEMPOTENCY_KEY_REUSED')
  t.match(reused.json().message, /^Idempotency-Key: k-1 was used for another request/)
  const otherNode = await post('k-1', { ...body, machine_id: 6 }, 'reservation')
  t.equal(otherNode.statusCode, 201, 'keys are per node: another token\'s k-1 is its own')
  const noKey = await book(w, 'kiosk', body)
  t.equal(noKey.statusCode, 409, 'without a key a repeat is a new booking, refused as a conflict')
  const badKey = await post('has space')
  t.equal(badKey.statusCode, 400)
  t.match(badKey.json().message, /^headers\.idempotency-key: /)
  await w.clock.advance(24 * 3600 * 1000 + 1000)
  await connectMachine(w, 5) // a day on, bay 5 must be online to be sold (issue 11)
  const late = await post('k-1', { ...body, start_time: inMinutes(w, 30) })
  t.equal(late.statusCode, 201, 'after 24 h the key is forgotten')
})
