import t from 'tap'
import {
  Confirmation,
  MachineControl,
  MachineReport,
  Request,
  Session,
  decoderFor,
  machineIdFromNode,
  machineIdFromTopic,
  machineNodeName,
  machineTopic,
  replyFor,
  replyTopic,
} from '../../src/protocol/index.js'

t.test('machine_4 and machine_004 are the same machine', async (t) => {
  t.equal(machineIdFromNode('machine_4'), 4)
  t.equal(machineIdFromNode('machine_004'), 4)
  t.equal(machineIdFromNode('machine_0'), undefined)
  t.equal(machineIdFromNode('machine_4x'), undefined)
  t.equal(machineIdFromNode('kiosk_interface'), undefined)
  t.equal(machineNodeName(4), 'machine_004')
  t.equal(machineTopic(4), 'external/machine/4')
  t.equal(machineIdFromTopic('external/machine/004'), 4)
  t.equal(machineIdFromTopic('external/machine/+'), undefined)
})

t.test('reply topics follow the origin', async (t) => {
  t.equal(replyTopic('kiosk_interface'), 'internal/kiosk')
  t.equal(replyTopic('reservation_interface'), 'internal/reservation')
  t.equal(replyTopic('admin_portal'), 'internal/admin')
  t.equal(replyTopic('golf_app'), 'internal/golf_app')
})

t.test('the DESIGN §4 examples decode', async (t) => {
  const session = decoderFor(Session)(
    JSON.stringify({ machine_id: [1, 2], session_id: 12345, status: 'reserved', start_time: 1673432480, duration: 3600, origin_node: 'kiosk_interface', destination_node: 'schedule_manager' }),
  )
  t.ok(session.ok)
  t.ok(decoderFor(Request)('{"request_id": 65833, "request_type": "schedule", "date": "2025-01-11"}').ok)
  t.ok(
    decoderFor(MachineControl)({ machine_id: 2, session_id: 54321, status: 'active', scheduled_until: 1673436080, timestamp: 1673432480.01, exchange_id: 77, origin_node: 'machine_handler', destination_node: 'machine_002' }).ok,
  )
  t.ok(
    decoderFor(MachineReport)({ machine_id: 4, status: 'idle', ball_level: 'low', scheduled_until: null, firmware: '1.0.0', ip_address: '192.168.4.23', rssi: -61, uptime_s: 3600, origin_node: 'machine_004' }).ok,
  )
  t.ok(decoderFor(Confirmation)({ success: true, session_id: 54321, status: 'active', exchange_id: 77 }).ok)
})

t.test('a decode error names the field', async (t) => {
  const decode = decoderFor(Session)
  const cases: Array<[unknown, RegExp]> = [
    ['not json', /not valid JSON/],
    ['[1,2]', /JSON object/],
    [{ status: 'reserved' }, /^machine_id: is required/],
    [{ machine_id: 'x', status: 'reserved' }, /^machine_id:/],
    [{ machine_id: [1, 0], status: 'reserved' }, /^machine_id/],
    [{ machine_id: 1, status: 'booked' }, /^status:/],
    [{ machine_id: 1, status: 'reserved', duration: 'long' }, /^duration:/],
    [{ machine_id: 1, status: 'reserved', start_time: -5 }, /^start_time:/],
  ]
  for (const [input, pattern] of cases) {
    const r = decode(typeof input === 'string' ? Buffer.from(input) : input)
    t.notOk(r.ok, JSON.stringify(input))
    if (!r.ok) t.match(r.message, pattern, JSON.stringify(input))
  }
})

t.test('replies echo exchange_id and request_id and address the origin', async (t) => {
  const r = replyFor({ origin_node: 'kiosk_interface', exchange_id: 9, request_id: 3 }, { success: true }, 'schedule_manager', 'x', 100)
  t.equal(r.topic, 'internal/kiosk')
  t.same(r.payload, { success: true, exchange_id: 9, request_id: 3, timestamp: 100, origin_node: 'schedule_manager', destination_node: 'kiosk_interface' })
  const fallback = replyFor({}, { success: false }, 'schedule_manager', 'golf_app', 1)
  t.equal(fallback.topic, 'internal/golf_app')
  t.notOk('exchange_id' in fallback.payload)
})
