import t from 'tap'
import { chooseDesired, clockFormatter, decideOverride, needsCommand, type HeldCommand, type Holds } from '../../src/machines/desired.js'
import type { DesiredState } from '../../src/protocol/messages.js'

const now = Date.UTC(2026, 0, 1, 10, 0, 0) / 1000
const fmt = clockFormatter('UTC')
const schedule: DesiredState = { status: 'active', session_id: 812, scheduled_until: now + 5400, source: 'schedule', holder: 'session 812' }
const admin: HeldCommand = { source: 'admin', node: 'admin_portal', status: 'maintenance', session_id: null, scheduled_until: null, set_at: now }
const kiosk: HeldCommand = { source: 'kiosk', node: 'kiosk_interface', status: 'active', session_id: 5, scheduled_until: now + 600, set_at: now }
const none: Holds = { admin: null, direct: null, schedule: undefined }

t.test('desired state: admin > schedule > kiosk/reservation > idle', async (t) => {
  t.equal(chooseDesired(none, now).source, 'default')
  t.equal(chooseDesired(none, now).status, 'idle')
  t.equal(chooseDesired({ ...none, direct: kiosk }, now).source, 'kiosk')
  t.equal(chooseDesired({ ...none, direct: kiosk, schedule }, now).source, 'schedule')
  t.equal(chooseDesired({ admin, direct: kiosk, schedule }, now).source, 'admin')
  t.equal(chooseDesired({ ...none, direct: kiosk }, now + 600).source, 'default', 'an expired direct command no longer holds')
  const timed = { ...admin, scheduled_until: now + 60 }
  t.equal(chooseDesired({ ...none, admin: timed, schedule }, now + 61).source, 'schedule', 'an expired override no longer holds')
})

t.test('a command is sent only when desired differs from in-flight or reported', async (t) => {
  const idle = { status: 'idle' as const, session_id: null, scheduled_until: null }
  const active = { status: 'active' as const, session_id: 1, scheduled_until: now + 60 }
  t.equal(needsCommand(idle, idle, null, false), false, 'reported matches')
  t.equal(needsCommand(active, idle, null, false), true)
  t.equal(needsCommand(active, idle, active, false), false, 'identical command in flight')
  t.equal(needsCommand(idle, idle, active, false), true, 'in-flight command superseded')
  t.equal(needsCommand(idle, idle, null, true), true, 'forced after a reconnect')
  t.equal(needsCommand(idle, null, null, false), true, 'nothing reported yet')
})

t.test('priority: a lower request is refused naming the holder', async (t) => {
  const cmd = { machine_id: 3, status: 'active' as const, scheduled_until: now + 1800 }
  const byKiosk = { source: 'kiosk' as const, node: 'kiosk_interface' }
  const bySchedule = decideOverride(cmd, byKiosk, { ...none, schedule }, now, fmt)
  t.same(bySchedule, { ok: false, code: 'MACHINE_HELD', message: 'machine 3 is held by session 812 until 11:30:00' })
  const byAdmin = decideOverride(cmd, byKiosk, { ...none, admin }, now, fmt)
  t.same(byAdmin, { ok: false, code: 'MACHINE_HELD', message: 'machine 3 is held by an admin override (maintenance)' })
  const other = decideOverride(cmd, { source: 'reservation', node: 'reservation_interface' }, { ...none, direct: kiosk }, now, fmt)
  t.same(other, { ok: false, code: 'MACHINE_HELD', message: 'machine 3 is held by session 5 (kiosk_interface) until 10:10:00' })
  const adminWins = decideOverride({ machine_id: 3, status: 'maintenance' }, { source: 'admin', node: 'ops' }, { ...none, schedule, direct: kiosk }, now, fmt)
  t.match(adminWins, { kind: 'set', slot: 'admin' })
})

t.test('identical repeats are accepted without change; release; validation', async (t) => {
  const byAdmin = { source: 'admin' as const, node: 'ops' }
  t.same(decideOverride({ machine_id: 3, status: 'maintenance' }, byAdmin, { ...none, admin }, now, fmt), { kind: 'same' })
  t.same(decideOverride({ machine_id: 3, status: 'idle', release: true }, byAdmin, { ...none, admin }, now, fmt), { kind: 'release', slot: 'admin' })
  t.same(decideOverride({ machine_id: 3, status: 'idle', release: true }, byAdmin, none, now, fmt), { kind: 'same' })
  const byKiosk = { source: 'kiosk' as const, node: 'kiosk_interface' }
  const again = { machine_id: 3, status: 'active' as const, session_id: 5, scheduled_until: now + 600 }
  t.same(decideOverride(again, byKiosk, { ...none, direct: kiosk }, now, fmt), { kind: 'same' })
  t.same(decideOverride({ ...again, session_id: 812, scheduled_until: now + 5400 }, byKiosk, { ...none, schedule }, now, fmt), { kind: 'same' }, 'asking what the schedule requires')
  const noUntil = decideOverride({ machine_id: 3, status: 'active' }, byKiosk, none, now, fmt)
  t.match(noUntil, { ok: false, code: 'MACHINE_INVALID', field: 'scheduled_until' })
  const past = decideOverride({ machine_id: 3, status: 'active', scheduled_until: now - 1 }, byAdmin, none, now, fmt)
  t.match(past, { ok: false, code: 'MACHINE_INVALID', message: 'scheduled_until: is in the past' })
  t.same(decideOverride({ ...again, release: true }, byKiosk, { ...none, direct: kiosk }, now, fmt), { kind: 'release', slot: 'direct' })
})

t.test('a kiosk release of an admin hold is refused naming the hold (found by the fuzzer)', async (t) => {
  const decision = decideOverride({ machine_id: 3, status: 'idle', release: true }, { source: 'kiosk', node: 'kiosk_interface' }, { ...none, admin }, now, fmt)
  t.match(decision, { ok: false, code: 'MACHINE_HELD', message: /held by an admin override/ })
})
