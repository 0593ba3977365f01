/**
 * Issue 13: one test per kind of change, each asserting its audit entry (who, before, after,
 * reason), through the HTTP door on the real modules and LevelDB (test/interfaces/http/world.ts).
 */
import t from 'tap'
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
