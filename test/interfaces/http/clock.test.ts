/** /api/clock, `clock` on /api/health, and bookings on the staff-confirmed time (issue 15). */
import t from 'tap'
import { FakeTimeSync } from '../../helpers/fake-time-sync.js'
import { auth, buildWorld, connectMachine, runFor, settle } from './world.js'

// The Pi booted after a power cut: fake-hwclock restored 07:00, the real time is 10:00.
const BOOT = Date.UTC(2026, 0, 10, 7, 0, 0)
const REAL = Date.UTC(2026, 0, 10, 10, 0, 0)

t.test('health shows the clock; confirm needs admin, a valid epoch_ms, and an unsynchronised clock', async (t) => {
  const timeSync = new FakeTimeSync()
  const w = await buildWorld(t, { timeSync, startMs: BOOT })
  const health = (await w.app.inject({ url: '/api/health' })).json()
  t.match(health.clock, { synchronised: false, service: 'timesyncd', source: 'system', trusted: false, offset_ms: 0, now: BOOT / 1000 })
  t.match((await w.app.inject({ url: '/api/clock', headers: auth('admin') })).json(), { trusted: false })

  const confirm = (payload: unknown, as: 'admin' | 'kiosk' | 'none' = 'admin') => w.app.inject({ method: 'POST', url: '/api/clock/confirm', headers: auth(as), payload: payload as object })
  t.equal((await confirm({ epoch_ms: REAL }, 'none')).statusCode, 401)
  t.equal((await confirm({ epoch_ms: REAL }, 'kiosk')).statusCode, 403)
  for (const [body, field] of [[{}, /epoch_ms/], [{ epoch_ms: 'now' }, /epoch_ms/], [{ epoch_ms: 12 }, /epoch_ms/], [{ epoch_ms: REAL, extra: 1 }, /extra|additional/]] as const) {
    const res = await confirm(body)
    t.equal(res.statusCode, 400, `refused: ${JSON.stringify(body)}`)
    t.match(res.json(), { error: String, message: field })
  }
  t.equal(w.hubClock.now(), BOOT, 'bad input changed nothing')

  const ok = await confirm({ epoch_ms: REAL })
  t.equal(ok.statusCode, 200)
  t.match(ok.json(), { source: 'staff', trusted: true, offset_ms: REAL - BOOT, confirmed_by: 'admin_portal', now: REAL / 1000 })
  t.match((await w.app.inject({ url: '/api/health' })).json().clock, { source: 'staff', offset_ms: REAL - BOOT })
  t.equal((await w.app.inject({ url: '/api/health' })).json().uptime_s, 0, 'the step does not count as uptime')

  timeSync.sync()
  await w.timekeeping!.check()
  const refused = await confirm({ epoch_ms: REAL })
  t.equal(refused.statusCode, 409)
  t.match(refused.json(), { error: 'CLOCK_SYNCHRONISED', message: /synchronised/ })
})

t.test('bookings run on the confirmed time: a 10:05 session starts 5 minutes after staff confirm 10:00', async (t) => {
  const timeSync = new FakeTimeSync()
  const w = await buildWorld(t, { timeSync, startMs: BOOT })
  await connectMachine(w, 3)
  const start = REAL / 1000 + 300
  const made = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('admin'), payload: { machine_id: 3, status: 'reserved', start_time: start, duration: 1800 } })
  t.equal(made.statusCode, 201)
  const id = made.json().session_id as number
  await runFor(w, 10 * 60_000, 60_000)
  t.equal(w.scheduling.get(id)!.status, 'reserved', 'on the wrong system clock (07:10) it has not started')

  t.equal((await w.app.inject({ method: 'POST', url: '/api/clock/confirm', headers: auth('admin'), payload: { epoch_ms: REAL } })).statusCode, 200)
  await runFor(w, 4 * 60_000, 10_000)
  t.equal(w.scheduling.get(id)!.status, 'reserved', 'not yet at 10:04 hub time')
  await runFor(w, 60_000, 1000)
  await settle(w)
  t.equal(w.scheduling.get(id)!.status, 'active', 'active at 10:05 on the confirmed time')
  const control = w.broker.published.filter((p) => p.topic === 'external/machine/3').at(-1)!.payload as { status: string; scheduled_until: number; timestamp: number }
  t.match(control, { status: 'active', scheduled_until: start + 1800 })
  t.equal(Math.round(control.scheduled_until - control.timestamp), 1800, 'the control carries hub time: the dispenser runs the full 30 minutes')
  await runFor(w, 30 * 60_000, 60_000)
  t.equal(w.scheduling.get(id)!.status, 'completed', 'and it ends on the confirmed time')
})

t.test('a session due at the confirmed time starts at once, not up to a minute later', async (t) => {
  const timeSync = new FakeTimeSync()
  const w = await buildWorld(t, { timeSync, startMs: BOOT })
  await connectMachine(w, 4)
  const made = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('admin'), payload: { machine_id: 4, status: 'reserved', start_time: REAL / 1000, duration: 600 } })
  const id = made.json().session_id as number
  await w.clock.advance(1000)
  await w.app.inject({ method: 'POST', url: '/api/clock/confirm', headers: auth('admin'), payload: { epoch_ms: REAL } })
  await settle(w)
  t.equal(w.scheduling.get(id)!.status, 'active', 'the step re-ran the lifecycle at the new time')
})
