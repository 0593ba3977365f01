/** The audit log over HTTP (issue 13): one entry per change with who, before and after. */
import t from 'tap'
import { ADMIN_TOKEN, auth, buildWorld, inMinutes, signIn } from './world.js'

t.test('a staff user books, moves, extends and cancels: four entries with their name, before and after', async (t) => {
  const w = await buildWorld(t)
  const sam = await signIn(w, 'sam', 'staff')
  const start = inMinutes(w, 60)
  const booked = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: sam, payload: { machine_id: 3, status: 'reserved', start_time: start, duration: 3600 } })
  t.equal(booked.statusCode, 201)
  const id = booked.json().session_id
  t.equal(booked.json().booked_by, 'staff:sam', '"booked by" names the staff user')
  t.equal(booked.json().origin_node, 'admin_portal')
  await w.clock.advance(1000)
  t.equal((await w.app.inject({ method: 'PATCH', url: `/api/sessions/${id}`, headers: sam, payload: { machine_id: 4 } })).statusCode, 200)
  await w.clock.advance(1000)
  t.equal((await w.app.inject({ method: 'PATCH', url: `/api/sessions/${id}`, headers: sam, payload: { duration: 5400 } })).statusCode, 200)
  await w.clock.advance(1000)
  const cancelled = await w.app.inject({ method: 'DELETE', url: `/api/sessions/${id}`, headers: sam })
  t.equal(cancelled.json().booked_by, 'staff:sam', 'kept through changes')
  t.equal((await w.app.inject({ method: 'DELETE', url: `/api/sessions/${id}`, headers: sam })).statusCode, 200, 'a repeat cancel changes nothing')

  const page = (await w.app.inject({ url: `/api/audit?session_id=${id}`, headers: sam })).json()
  t.same(page.entries.map((e: { kind: string }) => e.kind), ['session.cancelled', 'session.updated', 'session.moved', 'session.created'], 'newest first, one per change')
  const [cancel, extend, move, create] = page.entries
  t.match(create, { actor: 'staff:sam', session_id: id, machine_id: [3], before: null, after: { machine_id: [3], status: 'reserved', start_time: start, duration: 3600, booked_by: 'staff:sam' } })
  t.match(move, { actor: 'staff:sam', machine_id: [3, 4], before: { machine_id: [3] }, after: { machine_id: [4] } })
  t.match(extend, { before: { duration: 3600 }, after: { duration: 5400 } })
  t.match(cancel, { before: { status: 'reserved' }, after: { status: 'cancelled' } })
  t.ok(create.at < move.at && move.at < extend.at, 'times in order')
  t.equal(w.scheduling.get(id)?.status, 'cancelled', 'a cancelled session stays visible')
  const listed = (await w.app.inject({ url: '/api/sessions', headers: auth('admin') })).json()
  t.match(listed, [{ session_id: id, status: 'cancelled' }], 'and is listed with its status')
})

t.test('tokens, maintenance and kiosks: the actor is the token; filters and paging', async (t) => {
  const w = await buildWorld(t)
  const book = (as: 'admin' | 'kiosk', body: object) => w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth(as), payload: body })
  await book('admin', { machine_id: 7, status: 'maintenance', start_time: inMinutes(w, 10), duration: 1800 })
  for (let i = 0; i < 5; i++) await book('kiosk', { machine_id: 1 + i, status: 'reserved', start_time: inMinutes(w, 30), duration: 600 })
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const all = (await w.app.inject({ url: '/api/audit', headers: admin })).json()
  t.equal(all.entries.length, 6)
  t.match(all.entries[5], { kind: 'maintenance.created', actor: 'token:admin_portal', machine_id: [7] })
  t.match(all.entries[0], { kind: 'session.created', actor: 'token:kiosk_interface', after: { booked_by: 'token:kiosk_interface' } })

  const kiosk = (await w.app.inject({ url: '/api/audit?actor=token:kiosk_interface&limit=2', headers: admin })).json()
  t.equal(kiosk.entries.length, 2)
  t.type(kiosk.next, 'string')
  const rest = (await w.app.inject({ url: `/api/audit?actor=token:kiosk_interface&limit=10&before=${kiosk.next}`, headers: admin })).json()
  t.equal(rest.entries.length, 3, 'the next page has the rest')
  t.equal(rest.next, null)
  t.same([...kiosk.entries, ...rest.entries].map((e: { id: string }) => e.id).sort().reverse(), [...kiosk.entries, ...rest.entries].map((e: { id: string }) => e.id), 'pages follow one order, no repeats')
  t.equal((await w.app.inject({ url: '/api/audit?machine_id=7', headers: admin })).json().entries.length, 1)
  t.equal((await w.app.inject({ url: '/api/audit?kind=maintenance.created', headers: admin })).json().entries.length, 1)
  const now = w.clock.now() / 1000
  t.equal((await w.app.inject({ url: `/api/audit?from=${now + 1}`, headers: admin })).json().entries.length, 0)
  t.equal((await w.app.inject({ url: `/api/audit?to=${now + 1}`, headers: admin })).json().entries.length, 6)

  const bad = await w.app.inject({ url: '/api/audit?kind=session.deleted', headers: admin })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /^query\.kind: must be one of /)
  t.equal((await w.app.inject({ url: '/api/audit?before=x', headers: admin })).statusCode, 400)
  t.equal((await w.app.inject({ url: '/api/audit', headers: auth('kiosk') })).statusCode, 403, 'kiosks read no audit')
  t.equal((await w.app.inject({ method: 'DELETE', url: '/api/audit', headers: admin })).statusCode, 404, 'no route deletes entries')
})

t.test('staff changes from the CLI or the admin page appear with who made them', async (t) => {
  const w = await buildWorld(t)
  const mia = await signIn(w, 'mia', 'manager')
  t.equal((await w.app.inject({ method: 'POST', url: '/api/staff', headers: mia, payload: { username: 'nick', role: 'staff', password: 'password-nick' } })).statusCode, 201)
  t.equal((await w.app.inject({ method: 'PATCH', url: '/api/staff/nick', headers: mia, payload: { role: 'viewer' } })).statusCode, 200)
  const entries = (await w.app.inject({ url: '/api/audit', headers: mia })).json().entries
  t.match(entries, [
    { kind: 'staff.role', actor: 'staff:mia', target: 'nick', before: { role: 'staff' }, after: { role: 'viewer' } },
    { kind: 'staff.added', actor: 'staff:mia', target: 'nick', before: null, after: { role: 'staff' } },
    { kind: 'staff.added', actor: 'node:test', target: 'mia' },
  ])
  const again = (await w.app.inject({ url: '/api/audit', headers: mia })).json().entries
  t.equal(again.length, entries.length, 'each journal entry is copied once')
})
