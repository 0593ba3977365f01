/**
 * Issue 10 "one inbound MQTT pipeline": a payload published to a hub inbox is JSON.parse'd once
 * in the whole hub (broker ACL, refusal Confirmation and adapter included), where it was parsed up
 * to five times. Counted on the real in-process hub over real MQTT: every JSON.parse of a text
 * carrying this test's marker is one parse of that payload.
 */
import t from 'tap'
import { nextMessage, startTestHub } from '../helpers/hub.js'

t.test('each inbox payload is parsed once, accepted or refused', async (t) => {
  const w = await startTestHub(t)
  const parses = new Map<string, number>()
  const parse = JSON.parse
  JSON.parse = function (text: string, reviver?: Parameters<typeof parse>[1]) {
    const m = typeof text === 'string' ? /"marker":"(m\d+)"/.exec(text) : null
    if (m) parses.set(m[1]!, (parses.get(m[1]!) ?? 0) + 1)
    return parse(text, reviver)
  } as typeof JSON.parse
  t.teardown(() => void (JSON.parse = parse))

  const kiosk = await w.node('kiosk_interface')
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  const start = w.clock.nowSeconds() + 3600
  const cases: Array<[string, string, object]> = [
    ['m1', 'internal/manager', { machine_id: 1, status: 'reserved', start_time: start, duration: 600 }], // booked
    ['m2', 'internal/manager', { request_type: 'schedule' }], // answered
    ['m3', 'internal/manager', { machine_id: 'x', status: 'reserved', duration: 600 }], // bad input
    ['m4', 'internal/manager', { origin_node: 'admin_portal', request_type: 'schedule' }], // spoof: refused by the ACL
    ['m5', 'internal/handler', { machine_id: 2, status: 'maintenance' }], // override, refused by priority or answered
  ]
  for (const [marker, topic, body] of cases) {
    // the test's own client parses the reply, which does not carry the marker
    const reply = nextMessage(kiosk, 'internal/kiosk', (m) => m.exchange_id === Number(marker.slice(1)))
    await kiosk.publishAsync(topic, JSON.stringify({ ...body, marker, exchange_id: Number(marker.slice(1)) }), { qos: 1 })
    await reply
  }
  t.same(Object.fromEntries(parses), { m1: 1, m2: 1, m3: 1, m4: 1, m5: 1 }, 'one parse per message')
})
