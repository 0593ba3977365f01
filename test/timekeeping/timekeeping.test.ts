/** Time you can trust (issue 15): a fake time-sync state, the FakeClock under the hub's TrustedClock. */
import { renderFamilies } from '../../src/metrics/index.js'
import t, { type Test } from 'tap'
import { pino } from 'pino'
import { Writable } from 'node:stream'
import { createTrustedClock } from '../../src/lib/clock.js'
import { EventBus } from '../../src/lib/event-bus.js'
import type { HubEvents } from '../../src/protocol/events.js'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createConfirmationStore, createTimekeeping } from '../../src/timekeeping/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { FakeTimeSync } from '../helpers/fake-time-sync.js'

function world(t: Test) {
  const fake = new FakeClock(Date.UTC(2026, 0, 10, 7, 0, 0)) // what fake-hwclock restored: 3 h behind
  const clock = createTrustedClock(fake)
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({ write: (chunk, _enc, done) => (logs.push(JSON.parse(String(chunk))), done()) })
  const log = pino({ level: 'info' }, sink)
  const events = new EventBus<HubEvents>(log)
  const changes: Array<HubEvents['clock.changed']> = []
  events.on('clock.changed', 'test', (e) => void changes.push(e))
  const timeSync = new FakeTimeSync()
  const keeping = createTimekeeping({ clock, timeSync, events, log, pollMs: 10_000 })
  t.teardown(() => keeping.stop())
  return { fake, clock, logs, changes, timeSync, keeping }
}

const REAL = Date.UTC(2026, 0, 10, 10, 0, 0)

t.test('unsynchronised: untrusted, said once; staff confirm; the hub runs on it; sync steps back', async (t) => {
  const w = world(t)
  await w.keeping.start()
  t.match(w.keeping.status(), { synchronised: false, service: 'timesyncd', source: 'system', trusted: false, offset_ms: 0, confirmed_at: null })
  t.match(w.changes, [{ reason: 'clock not synchronised', clock: { trusted: false } }], 'the untrusted clock is announced')
  t.match((await renderFamilies(w.keeping.metrics())), /^hub_clock_trusted 0$[\s\S]*^hub_clock_synchronised 0$[\s\S]*^hub_clock_offset_seconds 0$/m, 'and on /metrics')
  t.ok(w.logs.some((l) => l.level === 40 && /clock not synchronised/.test(String(l.msg))), 'and logged as a warning')
  await w.fake.advance(30_000)
  t.equal(w.changes.length, 1, 'polls that find the same state announce nothing')

  const confirmed = w.keeping.confirm(REAL, 'admin')
  t.ok(confirmed.ok)
  t.match(w.keeping.status(), { source: 'staff', trusted: true, offset_ms: REAL - w.fake.now(), confirmed_by: 'admin', confirmed_at: REAL / 1000 })
  t.equal(w.clock.now(), REAL, 'the hub runs on the confirmed time')
  t.match((await renderFamilies(w.keeping.metrics())), new RegExp(`^hub_clock_trusted 1$[\\s\\S]*^hub_clock_offset_seconds ${(REAL - w.fake.now()) / 1000}$`, 'm'))
  const step = w.logs.find((l) => /clock step: staff confirmed/.test(String(l.msg)))
  t.match(step, { stepMs: REAL - Date.UTC(2026, 0, 10, 7, 0, 30), by: 'admin' }, 'the step is logged with its size and who')

  await w.fake.advance(60_000)
  t.equal(w.clock.now(), REAL + 60_000, 'and counts on from it')
  // fake-hwclock / a person steps the system clock: the hub's time does not move
  await w.fake.jump(w.fake.now() + 3_600_000)
  await w.fake.advance(10_000)
  t.equal(w.clock.now(), REAL + 70_000, 'a system clock step does not move the confirmed time')
  t.ok(w.logs.some((l) => /the system clock moved; the hub keeps the staff-confirmed time/.test(String(l.msg)) && l.stepMs === 3_600_000), 'the system step is logged')

  // NTP answers: the system clock is stepped to the real time and reported synchronised
  const ntpTime = REAL + 80_000 + 250 // the tablet was 250 ms behind
  await w.fake.jump(ntpTime - 10_000)
  w.timeSync.sync()
  await w.fake.advance(10_000)
  t.match(w.keeping.status(), { synchronised: true, source: 'ntp', trusted: true, offset_ms: 0, confirmed_by: null })
  t.equal(w.clock.now(), w.fake.now(), 'back on the system clock')
  const back = w.logs.find((l) => /leaving the staff-confirmed time/.test(String(l.msg)))
  t.match(back, { stepMs: 250 }, 'the step back to the synchronised clock is logged')
  t.match(w.changes.at(-1), { reason: 'system clock synchronised', stepMs: 250, clock: { source: 'ntp' } })
})

t.test('confirmation refused while synchronised, and for a time no tablet can have', async (t) => {
  const w = world(t)
  w.timeSync.sync()
  await w.keeping.start()
  t.match(w.keeping.status(), { synchronised: true, source: 'ntp', trusted: true })
  t.same(w.changes, [], 'a synchronised clock at start is nothing to announce')
  t.match(w.keeping.confirm(REAL, 'admin'), { ok: false, code: 'CLOCK_SYNCHRONISED', message: /synchronised/ })
  t.equal(w.clock.now(), w.fake.now(), 'unchanged')
  w.timeSync.state = { synchronised: false, service: 'chrony', detail: 'fake: leap status Not synchronised' }
  await w.fake.advance(10_000)
  t.match(w.keeping.status(), { trusted: false, service: 'chrony' })
  for (const bad of [0, Number.NaN, Infinity, Date.UTC(2101, 0, 1)]) {
    t.match(w.keeping.confirm(bad, 'admin'), { ok: false, code: 'CLOCK_INVALID', field: 'epoch_ms' }, `refuses ${bad}`)
  }
  t.equal(w.keeping.status().source, 'system', 'nothing changed')
})

t.test('no service answers (a laptop, a container): cannot tell, no alarm, confirmation allowed', async (t) => {
  const w = world(t)
  w.timeSync.state = { synchronised: null, service: null, detail: 'no time-sync service answered' }
  await w.keeping.start()
  t.match(w.keeping.status(), { synchronised: null, trusted: true, source: 'system' })
  t.same(w.changes, [])
  t.ok(w.keeping.confirm(REAL, 'admin').ok)
})

t.test('a system clock step while not anchored is logged and announced', async (t) => {
  const w = world(t)
  w.timeSync.sync()
  await w.keeping.start()
  await w.fake.jump(w.fake.now() + 7_200_000) // timesyncd steps a clock restored 2 h behind
  await w.fake.advance(10_000)
  t.ok(w.logs.some((l) => l.msg === 'clock step: the system clock moved' && l.stepMs === 7_200_000))
  t.match(w.changes, [{ reason: 'system clock stepped', stepMs: 7_200_000 }])
})

t.test('a time-sync check that throws is "cannot tell", not a crash', async (t) => {
  const w = world(t)
  w.timeSync.read = async () => {
    throw new Error('dbus gone')
  }
  await w.keeping.start()
  t.match(w.keeping.status(), { synchronised: null, detail: /dbus gone/ })
})

t.test('a confirmation survives a hub restart in the same boot, not a reboot', async (t) => {
  const dir = t.testdir()
  const fake = new FakeClock(Date.UTC(2026, 0, 10, 7, 0, 0))
  const log = pino({ level: 'silent' })
  const events = new EventBus<HubEvents>(log)
  const timeSync = new FakeTimeSync()
  let bootId = 'boot-1'
  const boot = { bootId: () => bootId, uptimeMs: () => 5_000_000 + fake.monotonic() }
  const start = async () => {
    const clock = createTrustedClock(fake)
    const keeping = createTimekeeping({ clock, timeSync, events, log, store: createConfirmationStore(dir), boot })
    await keeping.start()
    t.teardown(() => keeping.stop())
    return { clock, keeping }
  }
  const first = await start()
  t.ok(first.keeping.confirm(REAL, 'staff-1').ok)
  await first.keeping.flush()
  t.ok(existsSync(join(dir, 'clock-confirmation.json')), 'stored')
  first.keeping.stop()

  await fake.advance(60_000) // the hub is down for a minute (systemd restarts it)
  const second = await start()
  t.equal(second.clock.now(), REAL + 60_000, 'the restarted hub resumes the confirmed time, counted on since boot')
  t.match(second.keeping.status(), { source: 'staff', confirmed_by: 'staff-1', trusted: true })
  second.keeping.stop()

  bootId = 'boot-2' // the Pi rebooted: the old confirmation means nothing now
  const third = await start()
  t.equal(third.clock.now(), fake.now(), 'not resumed after a reboot')
  t.match(third.keeping.status(), { source: 'system', trusted: false })
  await third.keeping.flush()
  t.notOk(existsSync(join(dir, 'clock-confirmation.json')), 'and forgotten')

  t.ok(third.keeping.confirm(REAL, 'staff-1').ok)
  timeSync.sync()
  await third.keeping.check()
  await third.keeping.flush()
  t.notOk(existsSync(join(dir, 'clock-confirmation.json')), 'a synchronised clock forgets the confirmation')

  writeFileSync(join(dir, 'clock-confirmation.json'), '{"boot_id": 7, "epoch_ms": "x"}')
  t.equal(createConfirmationStore(dir).load(), undefined, 'a foreign or torn file is no confirmation')
})
