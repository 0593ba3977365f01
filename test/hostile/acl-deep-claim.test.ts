/**
 * Found by the fuzzer (scripts/fuzz, seed 2): a dispenser publishing a report whose machine_id is a
 * deeply nested array stopped the hub. The ACL's refusal message ran String() on the claimed value,
 * which recursed through 10,000 levels of arrays: RangeError in the publish hook, uncaught, exit 1.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { addMachine } from '../helpers/broker.js'
import { startHubProcess } from '../helpers/hub-process.js'
import { canPublish } from '../../src/broker/acl.js'

const deep = (n: number) => '['.repeat(n) + '1' + ']'.repeat(n)

t.test('the ACL names a nested machine_id without recursing into it', async (t) => {
  const m4 = { kind: 'machine', machineId: 4, clientId: 'machine_004', keepalive: 10 } as const
  // Under the 4 KiB cap of external/handler: parsed once, refused as a claim, named without walking it.
  const decision = canPublish(m4, 'external/handler', Buffer.from(`{"machine_id":${deep(2_000)}}`))
  t.same(decision, { ok: false, reason: 'machine_id: a list is not the sender (machine 4)' })
  // A 30,000-deep origin_node on a 64 KiB node inbox: JSON.stringify of it would overflow the stack.
  const kiosk = { kind: 'node', clientId: 'k', node: 'kiosk1', role: 'kiosk' } as const
  t.same(canPublish(kiosk, 'internal/manager', Buffer.from(`{"origin_node":${deep(30_000)}}`)), { ok: false, reason: 'origin_node: node kiosk1 may not publish as a list' })
  // Over the cap it is not parsed at all: the ACL lets the adapter refuse it by size.
  t.same(canPublish(m4, 'external/handler', Buffer.from(`{"machine_id":${deep(10_000)}}`)), { ok: true })
})

t.test('a report with a 10,000-deep machine_id leaves the hub process running', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 4, 'secret-4')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_MACHINES: '1-5', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'admin-token-for-the-test' })
  t.teardown(() => hub.kill())
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'machine_004', username: 'machine_004', password: 'secret-4', keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => client.endAsync(true))
  // QoS 1: the PUBACK comes after the publish hook ran, so the hub has judged the payload by then
  await client.publishAsync('external/handler', `{"machine_id":${deep(10_000)},"status":"idle","ball_level":"full"}`, { qos: 1 })
  await client.publishAsync('external/handler', JSON.stringify({ machine_id: 4, status: 'idle', ball_level: 'full' }), { qos: 1 })
  const health = await fetch(`http://127.0.0.1:${hub.httpPort}/api/health`)
  t.equal(health.status, 200, '/api/health still answers')
  t.equal(hub.child.exitCode, null, 'the process is alive')
  const machines = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/machines`, { headers: { authorization: 'Bearer admin-token-for-the-test' } })).json()) as Array<{ machine_id: number; online: boolean; reported_status: string }>
  t.match(machines.find((m) => m.machine_id === 4), { online: true, reported_status: 'idle' }, 'the dispenser stays connected and its next report is taken')
})
