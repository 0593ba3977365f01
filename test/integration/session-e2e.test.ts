import t from 'tap'
import { nextMessage, startTestHub, waitFor } from '../helpers/hub.js'

t.test('kiosk session -> Confirmation -> dispensers active at start_time until the end -> idle', async (t) => {
  const { hub, clock, node, simulate } = await startTestHub(t)
  const sim = await simulate([3, 4])
  await waitFor(() => hub.machines.list().filter((m) => m.online).length === 2, 10_000, 'dispensers online')

  const kiosk = await node('kiosk_interface')
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  const admin = await node('admin_portal')
  await admin.subscribeAsync('internal/admin', { qos: 1 })

  const start = Math.floor(clock.nowSeconds()) + 600
  const reply = nextMessage(kiosk, 'internal/kiosk', (m) => m.exchange_id === 41)
  await kiosk.publishAsync(
    'internal/manager',
    JSON.stringify({ machine_id: [3, 4], status: 'reserved', start_time: start, duration: 3600, origin_node: 'kiosk_interface', destination_node: 'schedule_manager', exchange_id: 41 }),
    { qos: 1 },
  )
  const confirmation = await reply
  t.match(confirmation, { success: true, status: 'reserved', exchange_id: 41, destination_node: 'kiosk_interface' })
  const sessionId = confirmation.session_id as number
  t.ok(sessionId > 0, 'hub assigned a session id')
  t.equal(sim.get(3)!.state.output, false, 'nothing dispenses before the start')

  // The confirmations of both dispensers reach internal/admin.
  const activeConfirmations = Promise.all([3, 4].map((id) => nextMessage(admin, 'internal/admin', (m) => m.machine_id === id && m.success === true && m.status === 'active')))
  await clock.advance(599_000)
  t.equal(sim.get(3)!.state.output, false, 'one second before start still off')
  await clock.advance(1_000)
  await activeConfirmations
  for (const id of [3, 4]) {
    const d = sim.get(id)!
    t.match(d.state, { status: 'active', output: true, session_id: sessionId, scheduled_until: start + 3600 }, `bay ${id} active until the end`)
  }
  t.equal(hub.scheduling.get(sessionId)?.status, 'active')

  const idle = Promise.all([3, 4].map((id) => nextMessage(admin, 'internal/admin', (m) => m.machine_id === id && m.success === true && m.status === 'idle')))
  await clock.advance(3599_000)
  t.equal(sim.get(4)!.state.output, true, 'one second before the end still on')
  await clock.advance(1_000)
  await idle
  for (const id of [3, 4]) t.match(sim.get(id)!.state, { status: 'idle', output: false }, `bay ${id} idle at the end`)
  t.equal(hub.scheduling.get(sessionId)?.status, 'completed')
})
