import t from 'tap'
import { isRole, machineOf, nodeNameProblem, roleOf, roleTopic, ROLES, type ClientIdentity } from '../../src/protocol/identity.js'
import { Topics } from '../../src/protocol/topics.js'

t.test('roles are one own list: inherited names are not roles', async (t) => {
  t.same([...ROLES], ['admin', 'kiosk', 'reservation'])
  for (const role of ROLES) t.ok(isRole(role), role)
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', '', 'Admin', 7, null, undefined]) {
    t.notOk(isRole(name), String(name))
  }
})

t.test('machineOf and roleOf read every identity kind', async (t) => {
  const machine: ClientIdentity = { kind: 'machine', clientId: 'machine_004', machineId: 4, keepalive: 10 }
  const node: ClientIdentity = { kind: 'node', clientId: 'k', node: 'kiosk_interface', role: 'kiosk' }
  const anonMachine: ClientIdentity = { kind: 'anonymous', clientId: 'machine_7' }
  const anon: ClientIdentity = { kind: 'anonymous', clientId: 'tool' }
  t.equal(machineOf(machine), 4)
  t.equal(machineOf(node), undefined)
  t.equal(machineOf(anonMachine), 7)
  t.equal(machineOf(anon), undefined)
  t.equal(roleOf(machine), undefined)
  t.equal(roleOf(node), 'kiosk')
  t.equal(roleOf(anonMachine), undefined)
  t.equal(roleOf(anon), 'admin')
})

t.test('each role has its feed', async (t) => {
  t.equal(roleTopic('admin'), Topics.admin)
  t.equal(roleTopic('kiosk'), Topics.kiosk)
  t.equal(roleTopic('reservation'), Topics.reservation)
})

t.test('nodeNameProblem refuses names that would read another feed', async (t) => {
  t.equal(nodeNameProblem('kiosk_interface', 'kiosk'), undefined)
  t.match(nodeNameProblem('kiosk_interface', 'reservation'), /would receive internal\/kiosk/)
  t.match(nodeNameProblem('handler', 'admin'), /internal\/handler/)
  t.match(nodeNameProblem('machine_handler', 'admin'), /hub node/)
})
