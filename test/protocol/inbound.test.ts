/** decodeInbound: the one inbound MQTT pipeline (issue 10). Pure: no broker needed. */
import t from 'tap'
import type { ClientIdentity } from '../../src/broker/port.js'
import { MAX_MACHINE_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES, Topics, decodeInbound, formatValidationError } from '../../src/protocol/index.js'

const kiosk1: ClientIdentity = { kind: 'node', clientId: 'k1', node: 'kiosk1', role: 'kiosk' }
const admin: ClientIdentity = { kind: 'node', clientId: 'adm', node: 'admin_portal', role: 'admin' }
const m4: ClientIdentity = { kind: 'machine', clientId: 'machine_004', machineId: 4, keepalive: 10 }
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v))
const session = { machine_id: 1, status: 'reserved', duration: 600 }
const report = { machine_id: 4, status: 'idle', ball_level: 'full' }

t.test('a good Session and Request decode, answered on the login reply topic', async (t) => {
  const s = decodeInbound(Topics.manager, bytes({ ...session, exchange_id: 5 }), kiosk1)
  t.match(s, { ok: true, kind: 'session', sender: { kind: 'node', actor: { name: 'kiosk1', role: 'kiosk' } }, reply: { topic: 'internal/kiosk1', to: 'kiosk1', echo: { exchange_id: 5 } } })
  const r = decodeInbound(Topics.manager, bytes({ request_type: 'schedule', request_id: 8 }), kiosk1)
  t.match(r, { ok: true, kind: 'request', reply: { echo: { request_id: 8 } } })
  const o = decodeInbound(Topics.handler, bytes({ machine_id: 3, release: true }), admin)
  t.match(o, { ok: true, kind: 'override', value: { machine_id: 3, status: 'idle', release: true } }, 'a release needs no status')
})

t.test('defect 9: a claimed origin_node must be the login, however the payload is spelled', async (t) => {
  for (const text of [
    ' {"origin_node":"kiosk2","machine_id":1,"status":"reserved","duration":600}',
    '\n\t{"origin_node":"kiosk2","machine_id":1,"status":"reserved","duration":600}',
    '{"origin_node":"kiosk2","origin_node":"kiosk2","machine_id":1,"status":"reserved","duration":600}',
    `{"origin_node":"kiosk2","machine_id":1,"status":"reserved","duration":600,"pad":"${'x'.repeat(100)}"}`,
  ]) {
    const r = decodeInbound(Topics.manager, Buffer.from(text), kiosk1)
    t.match(r, { ok: false, field: 'origin_node', message: 'origin_node: node kiosk1 may not publish as "kiosk2"' }, JSON.stringify(text.slice(0, 12)))
    t.equal(r.reply?.topic, 'internal/kiosk1', "the refusal goes to the login's own reply topic")
  }
  t.match(decodeInbound(Topics.manager, bytes({ ...session, origin_node: 'kiosk1' }), kiosk1), { ok: true }, 'its own name is fine')
  const asAdmin = decodeInbound(Topics.manager, bytes({ ...session, origin_node: 'reservation_interface' }), admin)
  t.match(asAdmin, { ok: true, reply: { topic: 'internal/reservation', to: 'reservation_interface' } }, 'an admin may act for another node')
})

t.test('a machine reports only as itself; a node is no machine', async (t) => {
  t.match(decodeInbound(Topics.machineHandler, bytes(report), m4), { ok: true, kind: 'report', sender: { kind: 'machine', machineId: 4 }, reply: { topic: 'external/machine/4', to: 'machine_004' } })
  t.match(decodeInbound(Topics.machineHandler, bytes({ ...report, machine_id: 5 }), m4), { ok: false, field: 'machine_id', reply: { topic: 'external/machine/4' } })
  t.match(decodeInbound(Topics.machineHandler, bytes(` ${JSON.stringify({ ...report, origin_node: 'machine_005' })}`), m4), { ok: false, field: 'origin_node' })
  t.match(decodeInbound(Topics.machineHandler, bytes({ success: true, exchange_id: 3 }), m4), { ok: true, kind: 'confirmation' })
  t.match(decodeInbound(Topics.machineHandler, bytes(report), kiosk1), { ok: false, field: '(sender)', message: '(sender): node kiosk1 is not a machine' })
  t.match(decodeInbound(Topics.manager, bytes(session), m4), { ok: false, field: '(sender)', reply: { topic: 'external/machine/4' } })
  t.match(decodeInbound(Topics.machineHandler, bytes(report), null), { ok: true, sender: { machineId: 4 } }, 'in-process: trusted by payload')
})

t.test('size is capped per inbox before parsing; one parse, one error wording', async (t) => {
  const big = bytes({ ...session, pad: 'x'.repeat(MAX_PAYLOAD_BYTES) })
  t.match(decodeInbound(Topics.manager, big, kiosk1), { ok: false, field: '(payload)', message: `(payload): payload is larger than ${MAX_PAYLOAD_BYTES} bytes`, reply: { topic: 'internal/kiosk1' } })
  const padded = bytes({ ...report, pad: 'x'.repeat(MAX_MACHINE_PAYLOAD_BYTES) })
  t.match(decodeInbound(Topics.machineHandler, padded, m4), { ok: false, message: `(payload): payload is larger than ${MAX_MACHINE_PAYLOAD_BYTES} bytes` })
  t.match(decodeInbound(Topics.manager, bytes('{nope'), kiosk1), { ok: false, message: '(payload): payload is not valid JSON' })
  t.match(decodeInbound(Topics.manager, bytes('[1]'), kiosk1), { ok: false, message: '(payload): payload must be a JSON object' })
  t.match(decodeInbound(Topics.manager, bytes('null'), kiosk1), { ok: false, message: '(payload): payload must be a JSON object' })
  t.match(decodeInbound(Topics.manager, bytes({ machine_id: 'x', status: 'reserved', duration: 600, exchange_id: 2 }), kiosk1), {
    ok: false,
    field: 'machine_id',
    reply: { echo: { exchange_id: 2 } },
  })
  t.match(decodeInbound('internal/elsewhere', bytes(session), kiosk1), { ok: false, field: '(topic)' })
})

t.test('defect 5: only known fields are kept; long strings are refused', async (t) => {
  const r = decodeInbound(Topics.machineHandler, bytes({ ...report, firmware: '1.0.0', extra: 'y'.repeat(1000), nested: { a: 1 } }), m4)
  t.ok(r.ok)
  if (r.ok) t.same(Object.keys(r.value).sort(), ['ball_level', 'firmware', 'machine_id', 'status'])
  t.match(decodeInbound(Topics.machineHandler, bytes({ ...report, firmware: 'f'.repeat(65) }), m4), { ok: false, field: 'firmware' })
  t.match(decodeInbound(Topics.machineHandler, bytes({ ...report, ip_address: 'i'.repeat(65) }), m4), { ok: false, field: 'ip_address' })
  const s = decodeInbound(Topics.manager, bytes({ ...session, note: 'kept?' }), kiosk1)
  t.ok(s.ok && !('note' in s.value), 'a Session is stripped too')
})

t.test('the one validation wording: MQTT names the field bare, HTTP with its location', async (t) => {
  const errors = [{ instancePath: '/machine_id/1', keyword: 'minimum', message: 'must be >= 1' }]
  t.same(formatValidationError(errors), { field: 'machine_id[1]', message: 'machine_id[1]: must be >= 1' })
  t.same(formatValidationError(errors, 'body'), { field: 'body.machine_id[1]', message: 'body.machine_id[1]: must be >= 1' })
  t.equal(formatValidationError([{ instancePath: '', keyword: 'required', params: { requiredProperties: ['status'] } }]).message, 'status: is required')
  t.equal(formatValidationError([]).message, '(payload): is invalid')
})

t.test('one decode per payload Buffer: the ACL and the adapter share it', async (t) => {
  const payload = bytes(session)
  const first = decodeInbound(Topics.manager, payload, kiosk1)
  t.equal(decodeInbound(Topics.manager, payload, kiosk1), first, 'the same result object, not a second parse')
  t.not(decodeInbound(Topics.manager, payload, admin), first, 'another identity is decoded for itself')
  t.not(decodeInbound(Topics.manager, bytes(session), kiosk1), first, 'another Buffer is decoded for itself')
})

t.test('a deeply nested claim is named, not walked', async (t) => {
  const deep = (n: number) => '['.repeat(n) + '1' + ']'.repeat(n)
  t.match(decodeInbound(Topics.manager, Buffer.from(`{"origin_node":${deep(30_000)}}`), kiosk1), { ok: false, identity: true, message: 'origin_node: node kiosk1 may not publish as a list' })
  t.match(decodeInbound(Topics.machineHandler, Buffer.from(`{"machine_id":${deep(2_000)}}`), m4), { ok: false, identity: true, message: 'machine_id: a list is not the sender (machine 4)' })
  t.match(decodeInbound(Topics.manager, Buffer.from(`{"machine_id":${deep(30_000)},"status":"reserved","duration":600}`), kiosk1), { ok: false, identity: false, field: 'machine_id' })
})
