import t from 'tap'
import { readFileSync, statSync } from 'node:fs'
import { usersPath } from '../../src/staff/users-file.js'
import { buildStaffWorld } from './world.js'

const ADDR = '192.168.4.50'

t.test('add a user, sign in, the token names the user; the file holds only a scrypt hash', async (t) => {
  const w = await buildStaffWorld(t)
  const added = await w.staff.change({ kind: 'add', username: 'alice', role: 'staff', password: 'correct horse' }, 'token:admin_portal')
  t.ok(added.ok)
  const text = readFileSync(usersPath(w.dir), 'utf8')
  t.notOk(text.includes('correct horse'), 'no password in the file')
  t.match(JSON.parse(text).users.alice.password, { N: 16384, r: 8 })
  t.equal(statSync(usersPath(w.dir)).mode & 0o777, 0o600)

  const login = await w.staff.login('Alice', 'correct horse', ADDR)
  t.ok(login.ok, 'names are case-insensitive')
  if (!login.ok) return
  t.match(login.token, /^[A-Za-z0-9_-]{43}$/)
  t.same(w.staff.authenticate(login.token), { username: 'alice', role: 'staff' })
  t.equal(w.staff.authenticate('x'.repeat(43)), undefined)

  const wrong = await w.staff.login('alice', 'wrong password', ADDR)
  t.same(wrong, { ok: false, code: 'LOGIN_FAILED', message: 'unknown username or wrong password' })
  const unknown = await w.staff.login('nobody', 'correct horse', ADDR)
  t.same(unknown, wrong, 'an unknown name gets the same answer')
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    t.same(await w.staff.login(name, 'whatever1', '10.0.0.9'), wrong, `${name} is nobody`)
  }
})

t.test('a sign-in ends when idle too long, and at the absolute limit even when used', async (t) => {
  const w = await buildStaffWorld(t, { idleMinutes: 30, sessionHours: 2 })
  await w.staff.change({ kind: 'add', username: 'bob', role: 'viewer', password: 'password-bob' }, 'node:cli')
  const a = await w.staff.login('bob', 'password-bob', ADDR)
  if (!a.ok) return t.fail('login')
  await w.clock.advance(29 * 60_000)
  t.ok(w.staff.authenticate(a.token), 'used within the idle time')
  await w.clock.advance(29 * 60_000)
  t.ok(w.staff.authenticate(a.token), 'the idle timer restarted at the last use')
  await w.clock.advance(31 * 60_000)
  t.equal(w.staff.authenticate(a.token), undefined, 'idle 31 min: ended')
  t.equal(w.staff.authenticate(a.token), undefined, 'and stays ended')

  const b = await w.staff.login('bob', 'password-bob', ADDR)
  if (!b.ok) return t.fail('login')
  t.equal(b.expires_at, w.clock.now() / 1000 + 7200)
  for (let i = 0; i < 4; i++) {
    await w.clock.advance(29 * 60_000)
    t.ok(w.staff.authenticate(b.token))
  }
  await w.clock.advance(5 * 60_000)
  t.equal(w.staff.authenticate(b.token), undefined, 'over 2 h after sign-in: ended though in use')
})

t.test('sign out, sign out everywhere, password and role change, removal end sign-ins; sign-ins survive a restart', async (t) => {
  const w = await buildStaffWorld(t)
  await w.staff.change({ kind: 'add', username: 'carol', role: 'manager', password: 'password-carol' }, 'node:cli')
  await w.staff.change({ kind: 'add', username: 'dave', role: 'staff', password: 'password-dave' }, 'node:cli')
  const tokenOf = async (name: string) => {
    const r = await w.staff.login(name, `password-${name}`, ADDR)
    if (!r.ok) throw new Error(r.message)
    return r.token
  }
  const tablet = await tokenOf('carol')
  const phone = await tokenOf('carol')
  const dave = await tokenOf('dave')
  await w.staff.logout(tablet)
  t.equal(w.staff.authenticate(tablet), undefined, 'signed out here')
  t.ok(w.staff.authenticate(phone), 'still signed in elsewhere')

  const restarted = await w.reopen()
  t.ok(restarted.authenticate(phone), 'a sign-in survives a hub restart')
  t.equal(restarted.authenticate(tablet), undefined)

  await w.clock.advance(1000)
  t.ok((await restarted.change({ kind: 'sign-out', username: 'carol' }, 'staff:carol')).ok)
  t.equal(restarted.authenticate(phone), undefined, 'signed out everywhere')
  t.ok(restarted.authenticate(dave), 'other users are not touched')
  const again = await tokenOf('carol')
  t.ok(restarted.authenticate(again), 'a new sign-in after sign-out everywhere works')

  t.ok((await restarted.change({ kind: 'password', username: 'dave', password: 'new-password-dave' }, 'staff:carol')).ok)
  t.equal(restarted.authenticate(dave), undefined, 'a new password ends sign-ins')
  t.notOk((await restarted.login('dave', 'password-dave', ADDR)).ok, 'the old password no longer works')
  const dave2 = await restarted.login('dave', 'new-password-dave', ADDR)
  if (!dave2.ok) return t.fail('login')
  t.ok((await restarted.change({ kind: 'role', username: 'dave', role: 'viewer' }, 'staff:carol')).ok)
  t.equal(restarted.authenticate(dave2.token), undefined, 'a role change ends sign-ins')
  const dave3 = await restarted.login('dave', 'new-password-dave', ADDR)
  if (!dave3.ok) return t.fail('login')
  t.same(restarted.authenticate(dave3.token), { username: 'dave', role: 'viewer' })
  t.ok((await restarted.change({ kind: 'remove', username: 'dave' }, 'staff:carol')).ok)
  t.equal(restarted.authenticate(dave3.token), undefined, 'removal ends sign-ins')
})

t.test('changes are refused with a code naming the field, and the journal records each change', async (t) => {
  const w = await buildStaffWorld(t)
  const add = (username: string, password = 'long enough') => w.staff.change({ kind: 'add', username, role: 'manager', password }, 'node:cli')
  t.match(await add('Bad Name'), { ok: false, code: 'STAFF_INVALID', message: /^username: / })
  t.match(await add('__proto__'), { ok: false, code: 'STAFF_INVALID', field: 'username' })
  t.match(await add('erin', 'short'), { ok: false, code: 'STAFF_INVALID', message: 'password: must have at least 8 characters' })
  t.ok((await add('erin')).ok)
  t.match(await add('erin'), { ok: false, code: 'STAFF_EXISTS' })
  t.match(await w.staff.change({ kind: 'remove', username: 'frank' }, 'node:cli'), { ok: false, code: 'STAFF_NOT_FOUND' })
  t.match(await w.staff.change({ kind: 'role', username: 'erin', role: 'staff' }, 'node:cli'), { ok: false, code: 'STAFF_LAST_MANAGER' })
  t.match(await w.staff.change({ kind: 'remove', username: 'erin' }, 'node:cli'), { ok: false, code: 'STAFF_LAST_MANAGER' })
  t.same(w.staff.list().map((u) => [u.username, u.role]), [['erin', 'manager']], 'refusals changed nothing')
  t.match(w.staff.journal(), [{ kind: 'staff.added', target: 'erin', actor: 'node:cli', before: null, after: { role: 'manager' } }])
})

t.test('throttling: a storm on one name delays neither another name nor, before its limit, the same address', async (t) => {
  const w = await buildStaffWorld(t)
  await w.staff.change({ kind: 'add', username: 'gina', role: 'staff', password: 'password-gina' }, 'node:cli')
  await w.staff.change({ kind: 'add', username: 'hank', role: 'staff', password: 'password-hank' }, 'node:cli')
  // Five wrong guesses for gina from many addresses, then she is throttled.
  for (let i = 0; i < 5; i++) t.match(await w.staff.login('gina', `guess-${i}`, `10.0.0.${i}`), { code: 'LOGIN_FAILED' })
  const storm = await Promise.all(Array.from({ length: 200 }, (_, i) => w.staff.login('gina', `guess-x${i}`, `10.0.1.${i % 250}`)))
  t.ok(storm.every((r) => !r.ok && r.code === 'LOGIN_THROTTLED'), 'throttled attempts are refused without hashing')
  t.match(storm[0], { retryAfterS: 1 })
  const right = await w.staff.login('gina', 'password-gina', '10.0.0.1')
  t.match(right, { ok: false, code: 'LOGIN_THROTTLED' }, 'even the right password waits while throttled')
  t.ok((await w.staff.login('hank', 'password-hank', '10.0.0.1')).ok, 'another name is not delayed')
  await w.clock.advance(1000)
  t.ok((await w.staff.login('gina', 'password-gina', '10.0.0.1')).ok, 'after the wait the right password works')

  // One address spraying names is throttled by address after 20 failures.
  for (let i = 0; i < 20; i++) await w.staff.login(`spray${i}`, 'guess-guess', '10.9.9.9')
  t.match(await w.staff.login('hank', 'password-hank', '10.9.9.9'), { code: 'LOGIN_THROTTLED' }, 'that address waits')
  t.ok((await w.staff.login('hank', 'password-hank', '10.0.0.2')).ok, 'other addresses do not')
})
