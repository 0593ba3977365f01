/** Issue 13: an archived session is still read by id over HTTP, and refused (409, not 404) when changed. */
import t from 'tap'
import { auth, buildWorld, inMinutes, runFor } from './world.js'

t.test('GET /api/sessions/:id reads an archived session; PATCH and DELETE get 409 SESSION_ENDED', async (t) => {
  const w = await buildWorld(t, { env: { HUB_ARCHIVE_AFTER_DAYS: '1' } })
  const booked = await w.app.inject({
    method: 'POST', url: '/api/sessions', headers: auth('kiosk'),
    payload: { machine_id: 3, status: 'reserved', start_time: inMinutes(w, 10), duration: 1800 },
  })
  t.equal(booked.statusCode, 201)
  const id = booked.json().session_id
  await runFor(w, 45 * 60_000, 60_000)
  t.equal(w.scheduling.get(id)?.status, 'completed')
  await w.clock.jump(w.clock.now() + 2 * 86_400_000)
  t.equal(await w.scheduling.archiveNow(), 1)
  t.equal(w.scheduling.get(id), undefined, 'left the live index')

  const read = await w.app.inject({ method: 'GET', url: `/api/sessions/${id}`, headers: auth('kiosk') })
  t.equal(read.statusCode, 200, 'its owner still reads it')
  t.match(read.json(), { session_id: id, status: 'completed', machine_id: [3] })
  t.equal((await w.app.inject({ method: 'GET', url: `/api/sessions/${id}`, headers: auth('kiosk2') })).statusCode, 403, 'another kiosk still may not')
  const patch = await w.app.inject({ method: 'PATCH', url: `/api/sessions/${id}`, headers: auth('admin'), payload: { duration: 600 } })
  t.equal(patch.statusCode, 409)
  t.match(patch.json(), { error: 'SESSION_ENDED', message: /archived/ })
  t.equal((await w.app.inject({ method: 'DELETE', url: `/api/sessions/${id}`, headers: auth('admin') })).statusCode, 409)
  t.equal((await w.app.inject({ method: 'GET', url: '/api/sessions/999', headers: auth('admin') })).statusCode, 404)
})
