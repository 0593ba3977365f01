/**
 * Issue 17: the broker turns off mqtt-packet's number cache (65,536 two-byte Buffers, 6.4 MB of
 * heap built at the first packet written). What goes on the wire must not change: packet ids and
 * lengths above one byte included.
 */
import t from 'tap'
import { createRequire } from 'node:module'
import { addMachine, startTestBroker } from '../helpers/broker.js'

const numbers = createRequire(import.meta.url)('mqtt-packet/numbers.js') as { cache: Record<number, Buffer> }

t.test('the encoder builds no number cache, and QoS 1 packet ids above 255 still reach the client intact', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 3, 'secret-3')
  const hub = await startTestBroker(dir)
  t.teardown(() => hub.close())
  const dispenser = await hub.connect({ clientId: 'machine_003', username: 'machine_003', password: 'secret-3', keepalive: 10, clean: true })
  const COUNT = 300
  const got: Array<{ n: number; messageId: number | undefined }> = []
  const all = new Promise<void>((resolve) =>
    dispenser.on('message', (_topic, payload, packet) => {
      got.push({ n: (JSON.parse(payload.toString()) as { n: number }).n, messageId: packet.messageId })
      if (got.length === COUNT) resolve()
    }),
  )
  await dispenser.subscribeAsync('external/machine/3', { qos: 1 })
  // payloads growing to 300+ bytes: the remaining length takes more than one byte
  for (let n = 1; n <= COUNT; n++) await hub.broker.publish('external/machine/3', { n, pad: 'x'.repeat(n) }, { qos: 1 })
  await all
  t.same(got.map((g) => g.n), Array.from({ length: COUNT }, (_, i) => i + 1), 'every message, in order, payload intact')
  t.ok(got.some((g) => (g.messageId ?? 0) > 255), 'packet ids above one byte were used')
  t.equal(Object.keys(numbers.cache).length, 0, 'no number cache was built')
})
