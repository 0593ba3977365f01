/** Machine state, overrides, alerts and exchange ids survive a restart on the same LevelDB (DESIGN §5). */
import t from 'tap'
import { machineTopic, Topics } from '../../src/protocol/topics.js'
import { FakeBroker } from '../helpers/fake-broker.js'
import { buildWorld, named, report } from './world.js'

const m2 = FakeBroker.machine(2)
const m5 = FakeBroker.machine(5)

t.test('restart keeps overrides, last report, alerts and never reuses an exchange id', async (t) => {
  const w = await buildWorld(t)
  w.autoConfirm(m2)
  w.broker.connect(m2)
  w.broker.connect(m5) // never confirms
  w.broker.inject(Topics.machineHandler, report(2, { ball_level: 'urgent', firmware: '1.2.3' }), m2)
  const until = w.clock.nowSeconds() + 7200
  const held = await w.machines.override({ machine_id: 2, status: 'maintenance', scheduled_until: until }, { source: 'admin', node: 'admin_portal' })
  t.ok(held.ok)
  await w.idle(20_000) // machine 5's command fails meanwhile
  const usedIds = new Set(w.broker.published.map((p) => p.payload.exchange_id))
  t.match(w.machines.get(5), { status: 'error' })
  const alertsBefore = w.machines.alerts().filter((a) => a.cleared_at === null).map((a) => a.kind).sort()
  t.same(alertsBefore, ['ball_urgent', 'command_failed'])
  await w.machines.acknowledgeAlert(w.machines.alerts().find((a) => a.kind === 'ball_urgent')!.alert_id)

  const w2 = await w.restart() // close store, new module on the same dir
  t.match(w2.machines.get(2), {
    status: 'offline', online: false, ball_level: 'urgent', firmware: '1.2.3', reported_status: 'maintenance',
    offline_reason: 'not connected since the hub started', desired: { source: 'admin', status: 'maintenance', scheduled_until: until },
  })
  t.match(w2.machines.get(5), { error: /no confirmation/ })
  t.same(w2.machines.alerts().map((a) => [a.kind, a.acknowledged]).sort(), [['ball_urgent', true], ['command_failed', false]])
  t.equal(w2.machines.get(1)?.offline_reason, 'never connected')

  // the machine comes back: it is sent the override still in force, with a fresh exchange id
  w2.autoConfirm(m2)
  w2.broker.connect(m2)
  await w2.idle()
  const sent = w2.broker.to(machineTopic(2))
  t.equal(sent.length, 1)
  t.match(sent[0]?.payload, { status: 'maintenance', scheduled_until: until })
  t.notOk(usedIds.has(sent[0]?.payload.exchange_id), 'exchange id unique across the restart')
  t.match(named(w2, 'command.confirmed'), [{ command: { machine_id: 2 } }])

  // a release after the restart is durable too
  await w2.machines.override({ machine_id: 2, status: 'idle', release: true }, { source: 'admin', node: 'admin_portal' })
  const w3 = await w2.restart()
  t.match(w3.machines.get(2), { desired: { source: 'default' } })
})
