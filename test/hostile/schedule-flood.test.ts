/**
 * Issue 10 defect 4 (reply cost): 1,000 QoS 0 schedule Requests from one kiosk node stalled the
 * hub for 21 s and every dispenser was dropped for keep-alive expiry; each reply rebuilt a ~225 KB
 * grid. The grid of a date is now built once and kept until a session on that date changes (both
 * doors read it), so the flood costs serialisation only. The per-client message rate limit is the
 * broker's; this test holds the reply side: dispensers with a 10 s keep-alive stay online, the
 * grid is built once per change, and the hub keeps answering.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { addMachine, addNode } from '../helpers/broker.js'
import { nextMessage } from '../helpers/hub.js'
import { startHubProcess } from '../helpers/hub-process.js'

const ADMIN = 'admin-token-for-the-flood-test'

function counter(metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `))
  return line ? Number(line.split(' ')[1]) : NaN
}

t.test('a schedule Request flood is answered from the cache and drops no dispenser', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'kiosk1', 'kiosk', 'secret-k')
  const bays = Array.from({ length: 20 }, (_, i) => i + 1)
  for (const id of bays) await addMachine(dir, id, `secret-${id}`)
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_MACHINES: '1-20', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: ADMIN })
  t.teardown(() => hub.kill())
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`
  const dispensers = await Promise.all(
    bays.map((id) => mqtt.connectAsync(url, { clientId: `machine_${id}`, username: `machine_${id}`, password: `secret-${id}`, keepalive: 10, reconnectPeriod: 0 })),
  )
  const dropped: number[] = []
  dispensers.forEach((d, i) => d.on('close', () => dropped.push(i + 1)))
  t.teardown(() => Promise.all(dispensers.map((d) => d.endAsync(true))))
  await Promise.all(dispensers.map((d, i) => d.publishAsync('external/handler', JSON.stringify({ machine_id: i + 1, status: 'idle', ball_level: 'full' }), { qos: 1 })))

  const kiosk = await mqtt.connectAsync(url, { clientId: 'k1', username: 'kiosk1', password: 'secret-k', reconnectPeriod: 0 })
  t.teardown(() => kiosk.endAsync(true))
  await kiosk.subscribeAsync('internal/kiosk1', { qos: 0 })
  const booked = nextMessage(kiosk, 'internal/kiosk1', (m) => m.exchange_id === 1)
  await kiosk.publishAsync('internal/manager', JSON.stringify({ machine_id: [3, 4], status: 'reserved', start_time: Date.now() / 1000 + 600, duration: 3600, exchange_id: 1 }), { qos: 1 })
  t.match(await booked, { success: true })

  let replies = 0
  kiosk.on('message', (_topic, payload) => {
    if (payload.includes('"schedule"')) replies++
  })
  const date = new Date().toISOString().slice(0, 10)
  const request = JSON.stringify({ request_type: 'schedule', date })
  for (let i = 0; i < 1000; i++) kiosk.publish('internal/manager', request, { qos: 0 })
  // A probe after the flood: its reply means every request before it was handled. The broker's
  // per-client rate limit may drop it while the kiosk's bucket refills, so ask again until answered.
  let last: Record<string, unknown> | undefined
  for (let id = 1; id <= 60 && !last; id++) {
    const probe = nextMessage(kiosk, 'internal/kiosk1', (m) => m.request_id === id, 2000).catch(() => undefined)
    await kiosk.publishAsync('internal/manager', JSON.stringify({ request_type: 'schedule', date, request_id: id }), { qos: 1 })
    last = await probe
  }
  if (!last) throw new Error('no schedule reply after the flood')
  t.equal((last.schedule as unknown[]).length, 288, 'the reply is the full grid of the day')

  const health = await fetch(`http://127.0.0.1:${hub.httpPort}/api/health`)
  t.equal(health.status, 200)
  const machines = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/machines`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as Array<{ online: boolean }>
  t.equal(machines.filter((m) => m.online).length, 20, 'every dispenser is still online')
  t.same(dropped, [], 'no dispenser connection was closed')
  const metrics = await (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
  const built = counter(metrics, 'dispenser_schedule_grids_built_total')
  const cached = counter(metrics, 'dispenser_schedule_grids_cached_total')
  t.ok(built >= 1 && built <= 2, `the grid was built once for the date (${built})`)
  t.ok(replies >= 1, `${replies} schedule replies reached the kiosk`)
  t.ok(cached >= replies - built, `every other reply came from the cache (${cached} cached)`)
})
