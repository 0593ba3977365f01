import t from 'tap'
import { buildWorld, inMinutes, signIn } from './world.js'

t.test('POST /api/auth/login sets an httpOnly SameSite=Strict cookie; me, logout', async (t) => {
  const w = await buildWorld(t)
  await w.staff.change({ kind: 'add', username: 'alice', role: 'staff', password: 'password-alice' }, 'node:test')
  const res = await w.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'alice', password: 'password-alice' } })
  t.equal(res.statusCode, 200, res.body)
  const setCookie = String(res.headers['set-cookie'])
  t.match(setCookie, /^dh_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/)
  t.match(res.json(), { user: { username: 'alice', role: 'staff' }, idle_minutes: 30, expires_at: w.clock.now() / 1000 + 43200 })
  t.notOk(res.body.includes(setCookie.split(';')[0]!.split('=')[1]!), 'the token is not in the body for scripts to read')
  const cookie = { cookie: setCookie.split(';')[0]! }

  const me = await w.app.inject({ url: '/api/auth/me', headers: cookie })
  t.equal(me.statusCode, 200)
  t.match(me.json(), { name: 'admin_portal', role: 'staff', user: 'alice' })
  t.ok(me.json().permissions.includes('sessions.book'))
  t.notOk(me.json().permissions.includes('staff.manage'))

  const out = await w.app.inject({ method: 'POST', url: '/api/auth/logout', headers: cookie })
  t.equal(out.statusCode, 200)
  t.match(String(out.headers['set-cookie']), /^dh_session=; .*Max-Age=0/)
  const after = await w.app.inject({ url: '/api/auth/me', headers: cookie })
  t.equal(after.statusCode, 401)
  t.same(after.json(), { error: 'UNAUTHORIZED', message: 'your sign-in has ended; sign in again' })
})

t.test('login: bad input is 400 naming the field, wrong password 401, throttled 429 with Retry-After', async (t) => {
  const w = await buildWorld(t)
  await w.staff.change({ kind: 'add', username: 'bob', role: 'viewer', password: 'password-bob' }, 'node:test')
  const login = (payload: unknown) => w.app.inject({ method: 'POST', url: '/api/auth/login', payload: payload as object })
  t.match((await login({ username: 'bob' })).json(), { error: 'VALIDATION_FAILED', message: 'body.password: is required' })
  t.match((await login({ username: 'bob', password: 'x'.repeat(257) })).json(), { error: 'VALIDATION_FAILED', message: /^body\.password: / })
  t.match((await login({ username: 7, password: 'x' })).json(), { message: /^body\.username: / })
  t.match((await login({ username: 'bob', password: 'p', extra: 1 })).json(), { message: /^body\.extra: / })
  for (let i = 0; i < 5; i++) {
    const res = await login({ username: 'bob', password: `wrong-${i}` })
    t.equal(res.statusCode, 401)
    t.same(res.json(), { error: 'LOGIN_FAILED', message: 'unknown username or wrong password' })
  }
  const throttled = await login({ username: 'bob', password: 'password-bob' })
  t.equal(throttled.statusCode, 429)
  t.equal(throttled.headers['retry-after'], '1')
  t.equal(throttled.json().error, 'LOGIN_THROTTLED')
  await w.clock.advance(1000)
  t.equal((await login({ username: 'bob', password: 'password-bob' })).statusCode, 200)
})

t.test('a signed-in request from another site is refused; the same origin is fine', async (t) => {
  const w = await buildWorld(t)
  const cookie = await signIn(w, 'carol', 'staff')
  const body = { machine_id: 2, status: 'reserved', start_time: inMinutes(w, 30), duration: 1800 }
  const foreign = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: { ...cookie, host: 'hub.local:8080', origin: 'http://evil.example' }, payload: body })
  t.equal(foreign.statusCode, 403)
  t.same(foreign.json(), { error: 'FORBIDDEN', message: 'cross-site request refused' })
  t.equal(w.scheduling.list().length, 0, 'nothing booked')
  const same = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: { ...cookie, host: 'hub.local:8080', origin: 'http://hub.local:8080' }, payload: body })
  t.equal(same.statusCode, 201)
})

t.test('sign out everywhere ends every sign-in of that user only; a viewer changes nothing', async (t) => {
  const w = await buildWorld(t)
  const tablet = await signIn(w, 'dave', 'viewer')
  const login = await w.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'dave', password: 'password-dave' } })
  const phone = { cookie: String(login.headers['set-cookie']).split(';')[0]! }
  const erin = await signIn(w, 'erin', 'staff')
  const booked = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: erin, payload: { machine_id: 3, status: 'reserved', start_time: inMinutes(w, 30), duration: 1800 } })
  t.equal(booked.statusCode, 201)
  const id = booked.json().session_id

  const refused = [
    await w.app.inject({ method: 'POST', url: '/api/sessions', headers: tablet, payload: { machine_id: 4, status: 'reserved', duration: 1800 } }),
    await w.app.inject({ method: 'PATCH', url: `/api/sessions/${id}`, headers: tablet, payload: { duration: 600 } }),
    await w.app.inject({ method: 'DELETE', url: `/api/sessions/${id}`, headers: tablet }),
    await w.app.inject({ method: 'POST', url: '/api/machines/3/override', headers: tablet, payload: { status: 'maintenance' } }),
  ]
  for (const res of refused) t.match(res.json(), { error: 'FORBIDDEN', message: /^role viewer may not use this route/ })
  t.match(w.scheduling.get(id), { status: 'reserved', duration: 1800 }, 'unchanged')

  t.equal((await w.app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: phone })).statusCode, 200)
  t.equal((await w.app.inject({ url: '/api/auth/me', headers: tablet })).statusCode, 401, 'the tablet is signed out too')
  t.equal((await w.app.inject({ url: '/api/auth/me', headers: erin })).statusCode, 200, 'other users stay signed in')
  const token = await w.app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: { authorization: 'Bearer kiosk-token-1' } })
  t.equal(token.statusCode, 400, 'a token has nothing to sign out')
})

t.test('managers manage staff: add, change role, reset password, remove; errors name the field', async (t) => {
  const w = await buildWorld(t)
  const mgr = await signIn(w, 'mia', 'manager')
  const add = await w.app.inject({ method: 'POST', url: '/api/staff', headers: mgr, payload: { username: 'nick', role: 'staff', password: 'password-nick' } })
  t.equal(add.statusCode, 201)
  t.same(Object.keys(add.json()).sort(), ['created_at', 'role', 'updated_at', 'username'], 'no hash in the answer')
  t.match((await w.app.inject({ method: 'POST', url: '/api/staff', headers: mgr, payload: { username: 'nick', role: 'staff', password: 'password-nick' } })).json(), { error: 'STAFF_EXISTS' })
  t.match((await w.app.inject({ method: 'POST', url: '/api/staff', headers: mgr, payload: { username: 'Nick!', role: 'staff', password: 'password-nick' } })).json(), { error: 'STAFF_INVALID', message: /^username: / })
  t.match((await w.app.inject({ method: 'POST', url: '/api/staff', headers: mgr, payload: { username: 'olga', role: 'boss', password: 'password-olga' } })).json(), { error: 'VALIDATION_FAILED', message: /^body\.role: / })
  t.match((await w.app.inject({ method: 'PATCH', url: '/api/staff/nick', headers: mgr, payload: { role: 'viewer', password: 'new-password' } })).json(), { username: 'nick', role: 'viewer' })
  const nickIn = await w.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'nick', password: 'new-password' } })
  t.equal(nickIn.statusCode, 200)
  t.match((await w.app.inject({ method: 'PATCH', url: '/api/staff/ghost', headers: mgr, payload: { role: 'viewer' } })), { statusCode: 404 })
  t.match((await w.app.inject({ method: 'DELETE', url: '/api/staff/mia', headers: mgr })).json(), { error: 'STAFF_LAST_MANAGER' })
  t.equal((await w.app.inject({ method: 'DELETE', url: '/api/staff/nick', headers: mgr })).statusCode, 200)
  t.same((await w.app.inject({ url: '/api/staff', headers: mgr })).json().map((u: { username: string }) => u.username), ['mia'])
})
