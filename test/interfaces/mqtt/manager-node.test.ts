import t from 'tap'
import type { ClientIdentity } from '../../../src/protocol/identity.js'
import { createManagerNode } from '../../../src/interfaces/mqtt/manager-node.js'
import { createNodeReplier } from '../../../src/interfaces/mqtt/node-replier.js'
import { NodeNames, Topics } from '../../../src/protocol/index.js'
import { FakeBroker } from '../../helpers/fake-broker.js'
import { buildWorld } from '../../scheduling/world.js'

const kioskClient = FakeBroker.node('kiosk_interface', 'kiosk')
const resClient = FakeBroker.node('reservation_interface', 'reservation')
const adminClient = FakeBroker.node('admin_portal', 'admin')

async function setup(t: Parameters<typeof buildWorld>[0]) {
  const w = await buildWorld(t)
  const broker = new FakeBroker()
  const rejected: string[] = []
  w.events.on('input.rejected', 'test', (e) => {
    rejected.push(e.message)
  })
  const replier = createNodeReplier({ broker, clock: w.clock, events: w.events, from: NodeNames.scheduleManager })
  const node = createManagerNode({ broker, scheduling: w.scheduling, replier, clock: w.clock, timeZone: 'Europe/London' })
  t.teardown(() => node.stop())
  /** Publish as a client and wait for the one reply. */
  const ask = async (payload: object | string, client: ClientIdentity | null = kioskClient) => {
    const before = broker.published.length
    broker.inject(Topics.manager, payload, client)
    for (let i = 0; i < 200 && broker.published.length === before; i++) await new Promise((r) => setTimeout(r, 5))
    if (broker.published.length !== before + 1) throw new Error(`expected one reply, got ${broker.published.length - before}`)
    return broker.published.at(-1)!
  }
  return { ...w, broker, node, ask, rejected }
}

t.test('a kiosk books, is confirmed on internal/kiosk, and a repeat gets the same confirmation', async (t) => {
  const w = await setup(t)
  const start = w.clock.nowSeconds() + 3600
  const body = { machine_id: [1, 2], status: 'reserved', start_time: start, duration: 3600, origin_node: 'kiosk_interface', destination_node: 'schedule_manager', exchange_id: 9 }
  const reply = await w.ask(body)
  t.equal(reply.topic, Topics.kiosk)
  t.match(reply.payload, { success: true, session_id: 1, status: 'reserved', machine_id: [1, 2], start_time: start, end_time: start + 3600, exchange_id: 9, origin_node: 'schedule_manager', destination_node: 'kiosk_interface' })
  const again = await w.ask(body)
  t.same(again, reply, 'a retry with the same exchange_id gets the same confirmation (idempotency key)')
  const byId = await w.ask({ ...body, session_id: 1, exchange_id: 10 })
  t.same(byId.payload, { ...reply.payload, exchange_id: 10 }, 'same session_id + same content = idempotent')
  t.equal(w.scheduling.list().length, 1)
  const auto = await w.ask({ machine_id: 3, status: 'reserved', start_time: start, duration: 1800 })
  t.match(auto.payload, { success: true, session_id: 2, status: 'reserved' }, 'the hub assigns an id')
})

t.test('refusals are Confirmations naming the conflict or the field, and change nothing', async (t) => {
  const w = await setup(t)
  const start = w.clock.nowSeconds() + 3600
  await w.ask({ machine_id: 2, status: 'reserved', start_time: start, duration: 3600 })
  const cases: Array<[object | string, RegExp, number | null]> = [
    [{ machine_id: [2, 3], status: 'reserved', start_time: start + 60, duration: 600 }, /^bay 2 is taken by session 1 \(11:00-12:00\)$/, null],
    [{ machine_id: 4, session_id: 900, status: 'reserved', start_time: start, duration: 600 }, /^session_id: session 900 does not exist; omit session_id to create one$/, 900],
    ['{not json', /not valid JSON/, null],
    [{ status: 'reserved', duration: 600, session_id: 901 }, /^machine_id: is required/, 901],
    [{ machine_id: 4, status: 'booked', duration: 600 }, /^status:/, null],
    [{ machine_id: 4, status: 'reserved' }, /^duration: is required/, null],
    [{ machine_id: 4, status: 'reserved', duration: 600 }, /^start_time: is required for a new session$/, null],
    [{ machine_id: 4, status: 'reserved', duration: 600, start_time: start - 7200 }, /^start_time:/, null],
    [{ machine_id: 42, status: 'reserved', duration: 600 }, /^machine_id: bay 42 is not served/, null],
    [{ machine_id: [5, 6], status: 'reserved', duration: 600 }, /^machine_id: bays 5 and 6 are in different rows/, null],
    [{ machine_id: 2, session_id: 1, status: 'cancelled' }, /^session_id: session 1 belongs to kiosk_interface$/, 1],
  ]
  for (const [payload, message, sessionId] of cases) {
    const reply = await w.ask(payload, typeof payload === 'object' && 'session_id' in payload && payload.session_id === 1 ? resClient : kioskClient)
    t.equal(reply.payload.success, false, String(message))
    t.match(String(reply.payload.message), message)
    t.equal(reply.payload.session_id, sessionId)
  }
  t.same(w.scheduling.list().map((s) => [s.session_id, s.status]), [[1, 'reserved']], 'state unchanged')
  t.equal(w.rejected.length, 7, 'bad input is counted; conflicts and forbidden changes are ordinary refusals')
})

t.test('cancel by the owner or an admin; replies go to the sender', async (t) => {
  const w = await setup(t)
  const start = w.clock.nowSeconds() + 600
  await w.ask({ machine_id: 6, status: 'reserved', start_time: start, duration: 600 }, resClient)
  const reply = await w.ask({ machine_id: 6, session_id: 1, status: 'cancelled' }, adminClient)
  t.equal(reply.topic, Topics.admin)
  t.match(reply.payload, { success: true, session_id: 1, status: 'cancelled' })
  const app = await w.ask({ machine_id: 7, status: 'reserved', start_time: start, duration: 600 }, { kind: 'node', clientId: 'app', node: 'golf_app', role: 'reservation' })
  t.equal(app.topic, 'internal/golf_app')
  t.equal(w.scheduling.get(app.payload.session_id as number)?.origin_node, 'golf_app', 'owned by the authenticated node')
  const machine = await w.ask({ machine_id: 7, session_id: app.payload.session_id, status: 'cancelled' }, FakeBroker.machine(7))
  t.equal(machine.topic, 'external/machine/7', 'a machine is answered on its own topic')
  t.match(machine.payload, { success: false, message: '(sender): a machine may not publish to internal/manager' }, 'a machine is never a node')
  t.not(w.scheduling.get(app.payload.session_id as number)?.status, 'cancelled', 'and changes nothing')
  const dev = await w.ask({ machine_id: 7, session_id: app.payload.session_id, status: 'cancelled', origin_node: 'dev_tool' }, { kind: 'anonymous', clientId: 'dev' })
  t.match(dev.payload, { success: true, status: 'cancelled' }, 'an anonymous development client acts as admin, as on internal/handler')
})

t.test('Request session and schedule', async (t) => {
  const w = await setup(t)
  const start = w.clock.nowSeconds() + 600
  await w.ask({ machine_id: [1, 2], status: 'reserved', start_time: start, duration: 600 })
  const session = await w.ask({ request_id: 65833, request_type: 'session', session_id: 1 })
  t.match(session.payload, { session_id: 1, machine_id: [1, 2], status: 'reserved', start_time: start, request_id: 65833 })
  const missing = await w.ask({ request_id: 1, request_type: 'session', session_id: 6 })
  t.match(missing.payload, { success: false, session_id: 6, message: 'session_id: no session 6', request_id: 1 })
  const schedule = await w.ask({ request_id: 2, request_type: 'schedule', date: '2026-06-01' })
  t.match(schedule.payload, { date: '2026-06-01', slot_minutes: 5, machines: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], request_id: 2 })
  const rows = schedule.payload.schedule as unknown[][]
  t.equal(rows.length, 288)
  t.same(rows.find((r) => r[0] === '10:10')![1], { machine_id: 1, status: 'reserved', session_id: 1 })
  const today = await w.ask({ request_type: 'schedule' })
  t.equal(today.payload.date, '2026-06-01', 'today in HUB_TIMEZONE by default')
  const machine = await w.ask({ request_id: 3, request_type: 'machine', machine_id: 1 })
  t.match(machine.payload, { success: false, message: /internal\/handler/, request_id: 3 })
  const badDate = await w.ask({ request_type: 'schedule', date: '2026-13-45' })
  t.match(badDate.payload, { success: false, message: /^date:/ })
})

t.test('Request schedule with format (issue 17): slots by default, runs on request, the same cells', async (t) => {
  const w = await setup(t)
  const start = w.clock.nowSeconds() + 600
  await w.ask({ machine_id: [1, 2], status: 'reserved', start_time: start, duration: 600 })
  const slots = await w.ask({ request_id: 4, request_type: 'schedule', date: '2026-06-01', format: 'slots', exchange_id: 9 })
  const plain = await w.ask({ request_id: 4, request_type: 'schedule', date: '2026-06-01', exchange_id: 9 })
  t.same({ ...plain.payload, timestamp: 0 }, { ...slots.payload, timestamp: 0 }, 'format slots is the default')
  const runs = await w.ask({ request_id: 5, request_type: 'schedule', date: '2026-06-01', format: 'runs' })
  t.match(runs.payload, { format: 'runs', date: '2026-06-01', slots: 288, timezone: 'Europe/London', request_id: 5, origin_node: 'schedule_manager', destination_node: 'kiosk_interface' })
  t.type(runs.payload.timestamp, 'number', 'enveloped like every reply')
  const { expandRuns } = await import('../../../src/scheduling/grid-runs.js')
  const { request_id: _r, timestamp: _t, origin_node: _o, destination_node: _d, exchange_id: _e, ...grid } = slots.payload as Record<string, unknown>
  t.same(expandRuns(runs.payload as never), grid, 'the runs expand to the slot rows')
  t.match(slots.payload, { exchange_id: 9, request_id: 4 }, 'echo fields are kept')
  const bad = await w.ask({ request_id: 6, request_type: 'schedule', format: 'rows' })
  t.match(bad.payload, { success: false, message: 'format: must be one of runs, slots', request_id: 6 })
  t.same(w.rejected.at(-1), 'format: must be one of runs, slots', 'counted as bad input')
})

t.test('stop unsubscribes', async (t) => {
  const w = await setup(t)
  const kiosk = FakeBroker.node('kiosk_interface', 'kiosk')
  w.node.stop()
  w.broker.inject(Topics.manager, { machine_id: 1, status: 'reserved', start_time: 1_767_261_600, duration: 600 }, kiosk)
  await new Promise((r) => setTimeout(r, 50))
  t.equal(w.broker.published.length, 0, 'no reply after stop')
  t.equal(w.scheduling.list().length, 0)
})
