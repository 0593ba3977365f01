/**
 * Issue 13: one test per kind of change, each asserting its audit entry (who, before, after,
 * reason), through the HTTP door on the real modules and LevelDB (test/interfaces/http/world.ts).
 */
import t from 'tap'
import { pino } from 'pino'
import { run } from '../../src/cli.js'
import { loadConfig } from '../../src/config/index.js'
import { createHub } from '../../src/hub.js'
import { FakeTimeSync } from '../helpers/fake-time-sync.js'
import { auth, buildWorld, connectMachine, disconnectMachine, inMinutes, settle, signIn, type World } from '../interfaces/http/world.js'

/** Polls (real time, bounded) until `probe` answers: the machine write after a reconnect is asynchronous. */
async function until<T>(probe: () => T | undefined): Promise<T | undefined> {
  for (let i = 0; i < 200; i++) {
    const v = probe()
    if (v !== undefined) return v
    await new Promise((r) => setTimeout(r, 5))
  }
  return undefined
}

const entries = async (w: World, query = '') => (await w.app.inject({ url: `/api/audit${query}`, headers: auth('admin') })).json().entries

t.test('machine overrides: maintenance, stop, release, each with who, before, after and reason', async (t) => {
  const w = await buildWorld(t)
  await connectMachine(w, 4)
  const sam = await signIn(w, 'sam', 'staff')
  const until = inMinutes(w, 30)
  const override = (body: object) => w.app.inject({ method: 'POST', url: '/api/machines/4/override', headers: sam, payload: body })
  t.equal((await override({ status: 'maintenance', scheduled_until: until, reason: 'jammed ball chute' })).statusCode, 200)
  await w.clock.advance(1000)
  t.equal((await override({ status: 'idle', scheduled_until: until })).statusCode, 200)
  await w.clock.advance(1000)
  t.equal((await override({ status: 'idle', scheduled_until: until })).statusCode, 200, 'an identical repeat')
  t.equal((await override({ release: true, reason: 'fixed' })).statusCode, 200)
  t.equal((await override({ release: true })).statusCode, 200, 'releasing again changes nothing')
  await settle(w)

  const log = await entries(w, '?machine_id=4')
  t.same(log.map((e: { kind: string }) => e.kind), ['machine.released', 'machine.override', 'machine.maintenance'], 'one entry per change, repeats make none')
  const [release, stop, maintenance] = log
  t.match(maintenance, {
    actor: 'staff:sam', machine_id: [4], reason: 'jammed ball chute', before: null,
    after: { source: 'admin', node: 'admin_portal', status: 'maintenance', scheduled_until: until },
  })
  t.match(stop, { actor: 'staff:sam', before: { status: 'maintenance' }, after: { status: 'idle', scheduled_until: until } })
  t.match(release, { actor: 'staff:sam', before: { status: 'idle' }, after: null, reason: 'fixed' })
  t.equal((await entries(w, '?kind=machine.maintenance')).length, 1, 'filter by kind')
  t.equal((await entries(w, '?actor=staff:sam')).length, 3, 'filter by who')

  const refused = await w.app.inject({ method: 'POST', url: '/api/machines/4/override', headers: sam, payload: { status: 'idle', reason: 'x'.repeat(201) } })
  t.equal(refused.statusCode, 400)
  t.match(refused.json().message, /reason/)
  t.equal((await entries(w, '?machine_id=4')).length, 3, 'a refused change records nothing')
})

t.test('a guarded override over a booking keeps the reason issue 11 requires', async (t) => {
  const w = await buildWorld(t)
  await connectMachine(w, 6)
  const booked = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('admin'), payload: { machine_id: 6, status: 'reserved', start_time: inMinutes(w, 10), duration: 3600 } })
  t.equal(booked.statusCode, 201)
  const sam = await signIn(w, 'sam', 'staff')
  const unconfirmed = await w.app.inject({ method: 'POST', url: '/api/machines/6/override', headers: sam, payload: { status: 'maintenance' } })
  t.equal(unconfirmed.statusCode, 409)
  const done = await w.app.inject({ method: 'POST', url: '/api/machines/6/override', headers: sam, payload: { status: 'maintenance', confirm: true, reason: 'water leak' } })
  t.equal(done.statusCode, 200)
  t.match(await entries(w, '?kind=machine.maintenance'), [{ actor: 'staff:sam', reason: 'water leak', machine_id: [6], after: { status: 'maintenance', scheduled_until: null } }])
})

t.test('an MQTT node override is recorded under the node', async (t) => {
  const w = await buildWorld(t)
  await connectMachine(w, 3)
  const result = await w.machines.override({ machine_id: 3, status: 'active', scheduled_until: inMinutes(w, 5) }, { source: 'kiosk', node: 'kiosk_interface', actor: { kind: 'node', name: 'kiosk_interface' } })
  t.ok(result.ok)
  t.match(await entries(w), [{ kind: 'machine.override', actor: 'node:kiosk_interface', before: null, after: { source: 'kiosk', node: 'kiosk_interface', status: 'active' } }])
})

t.test('acknowledging an alert: who, before and after, once', async (t) => {
  const w = await buildWorld(t)
  await connectMachine(w, 2, { ball_level: 'low' })
  await connectMachine(w, 5)
  await w.clock.advance(60_000)
  await disconnectMachine(w, 5)
  const alerts = (await w.app.inject({ url: '/api/alerts', headers: auth('admin') })).json()
  const low = alerts.find((a: { kind: string }) => a.kind === 'ball_low')
  const sam = await signIn(w, 'sam', 'staff')
  const ack = await w.app.inject({ method: 'POST', url: `/api/alerts/${low.alert_id}/ack`, headers: sam, payload: { reason: 'refill ordered' } })
  t.equal(ack.statusCode, 200)
  t.equal((await w.app.inject({ method: 'POST', url: `/api/alerts/${low.alert_id}/ack`, headers: sam })).statusCode, 200, 'a repeat, no body')
  t.match(await entries(w, '?kind=alert.acknowledged'), [
    { actor: 'staff:sam', machine_id: [2], target: `alert:${low.alert_id}`, reason: 'refill ordered', before: { kind: 'ball_low', acknowledged: false }, after: { acknowledged: true } },
  ])
  t.equal((await entries(w, '?kind=alert.acknowledged')).length, 1, 'the repeat recorded nothing')

  // a cleared alert (in memory only) is acknowledged with its own durable entry
  await connectMachine(w, 5)
  const cleared = await until(() => w.machines.alerts().find((a) => a.kind === 'offline' && a.cleared_at !== null))
  t.ok(cleared, 'the offline alert cleared on reconnect')
  t.equal((await w.app.inject({ method: 'POST', url: `/api/alerts/${cleared!.alert_id}/ack`, headers: auth('admin') })).statusCode, 200)
  t.match((await entries(w, '?kind=alert.acknowledged'))[0], { actor: 'token:admin_portal', machine_id: [5], after: { kind: 'offline', acknowledged: true } })
  const bad = await w.app.inject({ method: 'POST', url: `/api/alerts/${low.alert_id}/ack`, headers: sam, payload: { reason: '' } })
  t.equal(bad.statusCode, 400, 'an empty reason is refused')
})

t.test('clock confirm: who, the time before and after, and the reason', async (t) => {
  const boot = Date.UTC(2026, 0, 10, 7, 0, 0)
  const real = Date.UTC(2026, 0, 10, 10, 0, 0)
  const w = await buildWorld(t, { timeSync: new FakeTimeSync(), startMs: boot })
  const sam = await signIn(w, 'sam', 'staff')
  const res = await w.app.inject({ method: 'POST', url: '/api/clock/confirm', headers: sam, payload: { epoch_ms: real, reason: 'Pi booted without network' } })
  t.equal(res.statusCode, 200)
  t.match(await entries(w, '?kind=clock.confirmed'), [
    {
      actor: 'staff:sam', at: real / 1000, reason: 'Pi booted without network',
      before: { now: boot / 1000, offset_ms: 0, source: 'system', trusted: false },
      after: { now: real / 1000, offset_ms: real - boot, source: 'staff', trusted: true },
    },
  ])
  const long = await w.app.inject({ method: 'POST', url: '/api/clock/confirm', headers: auth('admin'), payload: { epoch_ms: real, reason: 'x'.repeat(201) } })
  t.equal(long.statusCode, 400)
  t.equal((await entries(w, '?kind=clock.confirmed')).length, 1, 'a refused confirmation records nothing')
})

t.test('API tokens, nodes and dispensers added, rotated and removed by the CLI: each copied once, also across a restart', async (t) => {
  const dir = t.testdir()
  const config = loadConfig({ HUB_DATA_DIR: dir, HUB_MQTT_PORT: '0', HUB_HTTP_PORT: '0', HUB_TIMEZONE: 'UTC', HUB_MACHINES: '1-4', HUB_ADMIN_TOKEN: 'audit-kinds-admin-token-0123456789' })
  const timeSync = { read: async () => ({ synchronised: true, service: 'timesyncd' as const, detail: 'test' }) }
  const cli = async (...args: string[]) => {
    const lines: string[] = []
    await run(['--data-dir', dir, ...args], {}, (l) => lines.push(l))
    return lines
  }
  let hub = await createHub({ config, log: pino({ level: 'silent' }), timeSync })
  t.teardown(() => hub.close())
  const audit = async () => {
    const res = await fetch(`http://127.0.0.1:${hub.ports.http}/api/audit?limit=1000`, { headers: { authorization: `Bearer ${hub.adminToken}` } })
    return ((await res.json()) as { entries: Array<Record<string, unknown>> }).entries.filter((e) => String(e.kind).startsWith('credential.'))
  }
  // while the hub runs, as on the Pi
  const token = (await cli('token', 'add', 'lobby-kiosk', '--role', 'kiosk')).find((l) => l.includes('shown once'))!.split(': ').pop()!
  await cli('token', 'rotate', 'lobby-kiosk', '--role', 'reservation')
  await cli('node', 'add', 'tablet_1', '--role', 'admin')
  await cli('machine', 'add', '3')
  await cli('token', 'remove', 'lobby-kiosk')
  const seen = await audit()
  const byTarget = (e: Record<string, unknown>) => `${e.kind} ${e.target}`
  t.same(seen.map(byTarget).sort(), [
    'credential.added machine:3', 'credential.added node:tablet_1', 'credential.added token:lobby-kiosk', 'credential.removed token:lobby-kiosk', 'credential.rotated token:lobby-kiosk',
  ])
  const rotated = seen.find((e) => e.kind === 'credential.rotated')
  t.match(rotated, { actor: 'node:cli', before: { role: 'kiosk' }, after: { role: 'reservation' } })
  t.match(seen.find((e) => e.kind === 'credential.removed'), { before: { role: 'reservation' }, after: null })
  t.notOk(JSON.stringify(seen).includes(token.slice(-20)), 'no secret in the log')
  t.equal((await audit()).length, 5, 'a second query copies nothing again')

  await hub.close()
  hub = await createHub({ config, log: pino({ level: 'silent' }), timeSync })
  t.equal((await audit()).length, 5, 'nor does a restart')
})

t.test('sessions: the reason given with a booking, a move and a cancel is kept', async (t) => {
  const w = await buildWorld(t)
  const sam = await signIn(w, 'sam', 'staff')
  const booked = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: sam, payload: { machine_id: 2, status: 'reserved', start_time: inMinutes(w, 60), duration: 1800, reason: 'phoned in' } })
  t.equal(booked.statusCode, 201)
  const id = booked.json().session_id
  t.equal((await w.app.inject({ method: 'PATCH', url: `/api/sessions/${id}`, headers: sam, payload: { machine_id: 3, reason: 'bay 2 net torn' } })).statusCode, 200)
  t.equal((await w.app.inject({ method: 'DELETE', url: `/api/sessions/${id}?reason=${encodeURIComponent('customer ill')}`, headers: sam })).statusCode, 200)
  const bad = await w.app.inject({ method: 'DELETE', url: `/api/sessions/${id}?reason=`, headers: sam })
  t.equal(bad.statusCode, 400, 'an empty reason is refused')
  t.match(bad.json().message, /reason/)
  t.match(await entries(w, `?session_id=${id}`), [
    { kind: 'session.cancelled', actor: 'staff:sam', reason: 'customer ill', before: { status: 'reserved' }, after: { status: 'cancelled' } },
    { kind: 'session.moved', reason: 'bay 2 net torn', before: { machine_id: [2] }, after: { machine_id: [3] } },
    { kind: 'session.created', reason: 'phoned in', before: null },
  ])
})
