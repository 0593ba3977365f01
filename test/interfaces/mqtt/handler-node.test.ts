/** internal/handler over the FakeBroker with the real machines module (DESIGN §4, §5). */
import t from 'tap'
import { createHandlerNode } from '../../../src/interfaces/mqtt/handler-node.js'
import { createNodeReplier } from '../../../src/interfaces/mqtt/node-replier.js'
import { NodeNames, Topics, machineTopic } from '../../../src/protocol/topics.js'
import { FakeBroker } from '../../helpers/fake-broker.js'
import { buildWorld, named, report, type World } from '../../machines/world.js'

const kiosk = FakeBroker.node('kiosk_interface', 'kiosk')
const admin = FakeBroker.node('admin_portal', 'admin')
const m3 = FakeBroker.machine(3)

async function withHandler(t: Parameters<typeof buildWorld>[0]): Promise<World> {
  const w = await buildWorld(t)
  const replier = createNodeReplier({ broker: w.broker, clock: w.clock, events: w.events, from: NodeNames.machineHandler })
  const node = createHandlerNode({ broker: w.broker, machines: w.machines, replier })
  t.teardown(node.stop)
  w.autoConfirm(m3)
  w.broker.connect(m3)
  w.broker.inject(Topics.machineHandler, report(3, { ball_level: 'medium' }), m3)
  await w.idle()
  w.broker.clear()
  return w
}

t.test('Request machine: one machine or all, answered on the origin reply topic with ids echoed', async (t) => {
  const w = await withHandler(t)
  w.broker.inject(Topics.handler, { request_id: 65833, request_type: 'machine', machine_id: 3, origin_node: 'admin_portal' }, admin)
  w.broker.inject(Topics.handler, { request_id: 65834, request_type: 'machine' }, admin)
  await w.idle()
  const replies = w.broker.to(Topics.admin)
  t.equal(replies.length, 2)
  t.match(replies[0]?.payload, { request_id: 65833, machine_id: 3, status: 'idle', online: true, ball_level: 'medium', origin_node: 'machine_handler', destination_node: 'admin_portal' })
  t.equal((replies[1]?.payload.machines as unknown[]).length, 5)
  t.match(replies[1]?.payload, { request_id: 65834, request_type: 'machine' })
  w.broker.inject(Topics.handler, { request_id: 65835, request_type: 'machine', machine_id: 42 }, admin)
  await w.idle()
  t.match(w.broker.to(Topics.admin).at(-1)?.payload, { success: false, request_id: 65835, message: /^machine_id: machine 42 is not served/ })
})

t.test('Request machine from a kiosk is refused as GET /api/machines refuses it (admin only)', async (t) => {
  const w = await withHandler(t)
  w.broker.inject(Topics.handler, { request_id: 1, request_type: 'machine', machine_id: 3 }, kiosk)
  w.broker.inject(Topics.handler, { request_id: 2, request_type: 'machine' }, kiosk)
  await w.idle()
  const replies = w.broker.to(Topics.kiosk)
  t.equal(replies.length, 2)
  for (const r of replies) t.match(r.payload, { success: false, message: 'request_type: role kiosk may not read machine state (needs admin or manager or staff or viewer)' })
  t.notOk(replies.some((r) => 'machines' in r.payload || 'online' in r.payload), 'no machine state leaks')
})

t.test('Machine override from an admin node: Confirmation on internal/admin and the command goes out', async (t) => {
  const w = await withHandler(t)
  w.broker.inject(Topics.handler, { machine_id: 3, status: 'maintenance', exchange_id: 501, origin_node: 'admin_portal' }, admin)
  await w.idle()
  t.match(w.broker.to(Topics.admin)[0]?.payload, { success: true, machine_id: 3, status: 'maintenance', exchange_id: 501, destination_node: 'admin_portal' })
  t.match(w.broker.to(machineTopic(3)).at(-1)?.payload, { status: 'maintenance' })
  t.match(w.machines.get(3), { status: 'maintenance', desired: { source: 'admin' } })

  // lower priority refused, naming the holder
  w.broker.inject(Topics.handler, { machine_id: 3, status: 'active', scheduled_until: w.clock.nowSeconds() + 600, exchange_id: 7 }, kiosk)
  await w.idle()
  t.match(w.broker.to(Topics.kiosk).at(-1)?.payload, { success: false, exchange_id: 7, machine_id: 3, message: 'machine 3 is held by an admin override (maintenance)' })
  t.same(named(w, 'input.rejected'), [], 'a held machine is a refusal, not bad input')

  // release without a status
  w.broker.inject(Topics.handler, { machine_id: 3, release: true }, admin)
  await w.idle()
  t.match(w.broker.to(Topics.admin).at(-1)?.payload, { success: true, status: 'idle', message: 'machine 3 released to the schedule' })
  t.match(w.machines.get(3), { desired: { source: 'default' } })
})

t.test('in-process and anonymous senders act as admin; a machine may not command', async (t) => {
  const w = await withHandler(t)
  w.broker.inject(Topics.handler, { machine_id: 3, status: 'maintenance' }, null)
  await w.idle()
  t.match(w.machines.get(3)?.desired, { source: 'admin' })
  w.broker.inject(Topics.handler, { machine_id: 3, status: 'idle', release: true }, { kind: 'anonymous', clientId: 'tool_1' })
  await w.idle()
  t.match(w.machines.get(3)?.desired, { source: 'default' })
  t.match(w.broker.to('internal/tool_1').at(-1)?.payload, { success: true })
  w.broker.inject(Topics.handler, { machine_id: 3, status: 'maintenance' }, m3)
  await w.idle()
  t.match(w.machines.get(3)?.desired, { source: 'default' })
  t.match(named(w, 'input.rejected').at(-1), { message: '(sender): a machine may not publish to internal/handler' })
})

t.test('bad payloads get a Confirmation naming the field and change nothing', async (t) => {
  const w = await withHandler(t)
  const before = JSON.stringify(w.machines.list())
  const sentBefore = w.broker.to(machineTopic(3)).length
  const cases: Array<[string, object | string, RegExp]> = [
    ['not JSON', 'status=active', /^\(payload\)/],
    ['missing status', { machine_id: 3, exchange_id: 9 }, /^status: is required/],
    ['unknown status', { machine_id: 3, status: 'dancing' }, /^status:/],
    ['machine_id type', { machine_id: 'three', status: 'idle' }, /^machine_id:/],
    ['machine not served', { machine_id: 42, status: 'idle' }, /^machine_id: machine 42 is not served/],
    ['until in the past', { machine_id: 3, status: 'active', scheduled_until: 5 }, /^scheduled_until: is in the past/],
    ['unknown request_type', { request_type: 'weather', request_id: 4 }, /^request_type:/],
    ['session request here', { request_type: 'schedule', date: '2026-01-01' }, /^request_type: internal\/handler answers "machine"/],
  ]
  for (const [, payload] of cases) {
    w.broker.inject(Topics.handler, payload, kiosk)
    await w.idle()
  }
  const replies = w.broker.to(Topics.kiosk)
  t.equal(replies.length, cases.length)
  cases.forEach(([name, , pattern], i) => t.match(replies[i]?.payload, { success: false, message: pattern }, name))
  t.match(replies[1]?.payload, { exchange_id: 9 }, 'exchange_id echoed even when the payload is bad')
  t.match(replies[6]?.payload, { request_id: 4 })
  t.equal(named(w, 'input.rejected').length, cases.length, 'every one counted as bad input')
  t.equal(JSON.stringify(w.machines.list()), before, 'no state change')
  t.equal(w.broker.to(machineTopic(3)).length, sentBefore, 'no command')
})
