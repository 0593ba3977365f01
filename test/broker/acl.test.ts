import t from 'tap'
import { canPublish, canSubscribe } from '../../src/broker/acl.js'
import { nodeNameProblem } from '../../src/protocol/identity.js'
import type { ClientIdentity } from '../../src/protocol/identity.js'

const m1: ClientIdentity = { kind: 'machine', clientId: 'machine_001', machineId: 1, keepalive: 10 }
const kiosk: ClientIdentity = { kind: 'node', clientId: 'k1', node: 'kiosk_interface', role: 'kiosk' }
const golf: ClientIdentity = { kind: 'node', clientId: 'g', node: 'golf_app', role: 'reservation' }
const admin: ClientIdentity = { kind: 'node', clientId: 'a', node: 'admin_portal', role: 'admin' }
const sneaky: ClientIdentity = { kind: 'node', clientId: 's', node: 'admin', role: 'kiosk' }
const inbox: ClientIdentity = { kind: 'node', clientId: 'i', node: 'manager', role: 'reservation' }
const anon: ClientIdentity = { kind: 'anonymous', clientId: 'tool' }
const anonMachine: ClientIdentity = { kind: 'anonymous', clientId: 'machine_7' }
const json = (v: object) => Buffer.from(JSON.stringify(v))

t.test('publish table', async (t) => {
  const rows: Array<[ClientIdentity, string, Buffer, boolean]> = [
    [m1, 'external/handler', json({ machine_id: 1, status: 'idle' }), true],
    [m1, 'external/handler', json({ machine_id: 2, status: 'idle' }), false],
    [m1, 'external/handler', json({ origin_node: 'machine_002' }), false],
    [m1, 'external/handler', json({ origin_node: 'machine_1' }), true],
    [m1, 'external/handler', Buffer.from('not json'), true], // the adapter answers bad input
    [m1, 'external/machine/1', json({}), false],
    [m1, 'internal/manager', json({}), false],
    [kiosk, 'internal/manager', json({ origin_node: 'kiosk_interface' }), true],
    [kiosk, 'internal/manager', json({ origin_node: 'admin_portal' }), false],
    [kiosk, 'internal/handler', json({}), true],
    [kiosk, 'external/machine/1', json({}), false],
    [kiosk, 'external/handler', json({ machine_id: 1 }), false],
    [admin, 'internal/manager', json({ origin_node: 'kiosk_interface' }), true],
    [admin, 'external/machine/1', json({}), false],
    [anon, 'internal/handler', json({}), true],
    [anonMachine, 'external/handler', json({ machine_id: 7 }), true],
    [anonMachine, 'external/handler', json({ machine_id: 8 }), false],
    [anonMachine, 'internal/manager', json({}), false],
    [m1, '$SYS/x', json({}), false],
    [m1, 'external/handler', json({ machine_id: '1' }), false], // a string id is not "itself"
    [m1, 'external/handler', Buffer.from('[1,2]'), true], // not an object: bad input for the adapter
    [golf, 'internal/manager', json({ origin_node: 'golf_app' }), true],
    [golf, 'internal/manager', json({ origin_node: 'reservation_interface' }), false],
  ]
  for (const [who, topic, payload, expected] of rows) {
    t.equal(canPublish(who, topic, payload).ok, expected, `${who.clientId} -> ${topic} ${payload.toString()}`)
  }
})

t.test('subscribe table', async (t) => {
  const rows: Array<[ClientIdentity, string, boolean]> = [
    [m1, 'external/machine/1', true],
    [m1, 'external/machine/2', false],
    [m1, 'external/machine/+', false],
    [m1, '#', false],
    [kiosk, 'internal/kiosk', true],
    [kiosk, 'internal/admin', false],
    [kiosk, 'internal/#', false],
    [golf, 'internal/golf_app', true],
    [golf, 'internal/reservation', true],
    [golf, 'internal/kiosk', false],
    [admin, 'internal/#', true],
    [admin, 'external/#', true],
    [admin, '#', false],
    [anonMachine, 'external/machine/7', true],
    [anonMachine, 'external/machine/8', false],
    [anon, 'internal/#', true],
    [anon, 'external/#', true],
    [anon, '$SYS/#', false],
    [sneaky, 'internal/admin', false], // a kiosk node named "admin" does not get the admin feed
    [sneaky, 'internal/kiosk', true],
    [inbox, 'internal/manager', false], // nor one named "manager" the hub's inbox
  ]
  for (const [who, filter, expected] of rows) t.equal(canSubscribe(who, filter).ok, expected, `${who.clientId} sub ${filter}`)
})

t.test('a refusal says why', async (t) => {
  const d = canPublish(m1, 'external/handler', json({ machine_id: 2 }))
  t.notOk(d.ok)
  if (!d.ok) t.equal(d.reason, 'machine_id: 2 is not the sender (machine 1)', 'in the words of the inbound pipeline (protocol/inbound.ts)')
})

t.test('node names the CLI refuses', async (t) => {
  t.equal(nodeNameProblem('kiosk_interface', 'kiosk'), undefined)
  t.equal(nodeNameProblem('golf_app', 'reservation'), undefined)
  t.equal(nodeNameProblem('admin_portal', 'admin'), undefined)
  t.match(nodeNameProblem('admin_portal', 'kiosk'), /would receive internal\/admin/)
  t.match(nodeNameProblem('manager', 'admin'), /internal\/manager/)
  t.match(nodeNameProblem('machine_4', 'admin'), /machine name/)
  t.match(nodeNameProblem('schedule_manager', 'admin'), /hub node/)
  t.match(nodeNameProblem('a b', 'admin'), /letters, digits/)
})
