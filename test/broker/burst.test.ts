import t from 'tap'
import { addNode, startTestBroker } from '../helpers/broker.js'

// Guards the broker's delivery settings. At a 1,000-bay changeover the hub died with "Maximum call
// stack size exceeded": Aedes allowed 100 deliveries in flight, more queued, and mqemitter drained
// the queue recursively through messages that complete synchronously (those no client subscribes
// to, e.g. the dispensers' answers). test/broker/delivery-queue.test.ts reproduces that crash with the old setting;
// this test does not (deliveries here never pile up 100 deep): it checks a property the fix must
// keep, a burst behind slower persistent-session deliveries arrives whole, in order.
t.test('a burst queued behind slow persistent-session deliveries reaches a clean-session subscriber whole', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'admin_portal', 'admin', 'as')
  await addNode(dir, 'golf_app', 'reservation', 'gs')
  const b = await startTestBroker(dir)
  t.teardown(() => b.close())
  const persistent = await b.connect({ clientId: 'golf-1', username: 'golf_app', password: 'gs', clean: false })
  await persistent.subscribeAsync('internal/golf_app', { qos: 1 })
  const admin = await b.connect({ clientId: 'a', username: 'admin_portal', password: 'as', clean: true })
  await admin.subscribeAsync('internal/admin', { qos: 1 })
  const SLOW = 300
  const BURST = 20_000
  const seen: number[] = []
  const all = new Promise<void>((resolve) =>
    admin.on('message', (_topic, payload) => {
      seen.push((JSON.parse(payload.toString()) as { n: number }).n)
      if (seen.length === BURST) resolve()
    }),
  )
  // one tick: the slow deliveries first, then the burst behind them
  const sent = [
    ...Array.from({ length: SLOW }, (_, n) => b.broker.publish('internal/golf_app', { n }, { qos: 1 })),
    ...Array.from({ length: BURST }, (_, n) => b.broker.publish('internal/admin', { n }, { qos: 1 })),
  ]
  await Promise.all(sent)
  await all
  t.equal(seen.length, BURST, 'every message delivered')
  t.ok(
    seen.every((n, i) => n === i),
    'in the order sent',
  )
  const after = await b.connect({ clientId: 'a2', username: 'admin_portal', password: 'as' })
  t.ok(after.connected, 'the broker still takes connections')
})
