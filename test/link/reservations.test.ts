import t from 'tap'
import { signature } from '../../src/link/webhook.js'
import { startFakeCloud } from '../helpers/cloud.js'
import { startTestHub, waitFor } from '../helpers/hub.js'

const HOUR = 3600

t.test('pulled reservations create, update and cancel sessions; a conflict is reported back as refused', async (t) => {
  const cloud = await startFakeCloud()
  t.teardown(() => cloud.close())
  const { hub, clock } = await startTestHub(t, { HUB_CLOUD_URL: cloud.url, HUB_SITE_ID: 'venue1' })
  const start = Math.floor(clock.nowSeconds() / HOUR) * HOUR + 2 * HOUR
  hub.scheduling.submit({ machine_id: 7, status: 'reserved', start_time: start, duration: HOUR }, { origin: 'kiosk_interface' })
  cloud.reservations.push(
    { external_id: 'r1', bays: [1, 2], start: new Date(start * 1000).toISOString(), duration_minutes: 60, status: 'booked' },
    { external_id: 'r2', bays: [7], start, duration_minutes: 30, status: 'booked' },
    { external_id: 'r1', bays: [1, 2], start: start + HOUR, duration_minutes: 90, status: 'booked' },
  )
  await hub.link.reservations.pullNow()
  const r1 = hub.scheduling.findByExternalId('r1')
  t.match(r1, { machine_id: [1, 2], start_time: start + HOUR, duration: 90 * 60, origin_node: 'reservation_interface' }, 'created, then moved and extended')
  t.equal(hub.scheduling.findByExternalId('r2'), undefined, 'the conflicting reservation was not booked')
  await waitFor(() => cloud.outcomes.length === 3, 5000, 'three outcomes reported')
  t.match(cloud.outcomes[0], { external_id: 'r1', status: 'confirmed', session_id: r1!.session_id, site_id: 'venue1' })
  t.match(cloud.outcomes[1], { external_id: 'r2', status: 'refused', reason: /bay 7/ })
  t.match(cloud.outcomes[2], { external_id: 'r1', status: 'confirmed', session_id: r1!.session_id })

  cloud.reservations.push({ external_id: 'r1', bays: [1, 2], start: start + HOUR, duration_minutes: 90, status: 'booked' })
  await hub.link.reservations.pullNow()
  t.equal(hub.scheduling.list({ machineId: 1 }).length, 1, 'a repeat is idempotent')

  cloud.reservations.push({ external_id: 'r1', bays: [1, 2], start: start + HOUR, duration_minutes: 90, status: 'cancelled' })
  await hub.link.reservations.pullNow()
  t.equal(hub.scheduling.get(r1!.session_id)?.status, 'cancelled', 'cancelled upstream, cancelled here')
  await waitFor(() => cloud.outcomes.some((o) => o.status === 'cancelled'), 5000, 'cancellation reported')
})

t.test('outcomes reported while the cloud is down arrive when it is back', async (t) => {
  const cloud = await startFakeCloud()
  t.teardown(() => cloud.close())
  const { hub, clock } = await startTestHub(t, { HUB_CLOUD_URL: cloud.url })
  const start = Math.floor(clock.nowSeconds()) + 2 * HOUR
  cloud.down = true
  const outcome = await hub.link.reservations.apply({ external_id: 'w1', bays: [3], start, duration_minutes: 60, status: 'booked' })
  t.match(outcome, { status: 'confirmed' }, 'booked locally with the cloud down')
  await waitFor(() => hub.link.reservations.status().reports.lastError !== null, 5000, 'a failed report')
  t.equal(cloud.outcomes.length, 0)
  cloud.down = false
  await clock.advance(5 * 60_000) // the backoff timer runs on the hub's clock
  await waitFor(() => cloud.outcomes.length === 1, 5000, 'report delivered after the outage')
  t.match(cloud.outcomes[0], { external_id: 'w1', status: 'confirmed' })
})

t.test('the webhook needs the HMAC signature and books like a pull', async (t) => {
  const secret = 'webhook-secret'
  const { hub, clock } = await startTestHub(t, { HUB_WEBHOOK_SECRET: secret })
  const url = `http://127.0.0.1:${hub.ports.http}/api/link/reservations`
  const start = Math.floor(clock.nowSeconds()) + 3 * HOUR
  const post = (body: string, sig?: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(sig ? { 'x-hub-signature-256': sig } : {}) }, body })
  const create = JSON.stringify({ external_id: 'w9', bays: [5], start, duration_minutes: 45, status: 'booked' })
  t.equal((await post(create)).status, 401, 'unsigned: 401')
  t.equal((await post(create, signature('wrong', create))).status, 401, 'wrong secret: 401')
  const ok = await post(create, signature(secret, create))
  t.equal(ok.status, 200)
  const { results } = (await ok.json()) as { results: Array<Record<string, unknown>> }
  t.match(results[0], { external_id: 'w9', status: 'confirmed' })
  t.match(hub.scheduling.findByExternalId('w9'), { machine_id: [5], duration: 45 * 60 })
  const bad = JSON.stringify({ external_id: 'w10', bays: ['x'], start, duration_minutes: 45, status: 'booked' })
  const badRes = await post(bad, signature(secret, bad))
  t.equal(badRes.status, 400)
  t.match(await badRes.json(), { message: /bays\[0\]/ }, 'bad input names the field')
  const cancel = JSON.stringify({ reservations: [{ external_id: 'w9', bays: [5], start, duration_minutes: 45, status: 'cancelled' }] })
  t.equal((await post(cancel, signature(secret, cancel))).status, 200)
  t.equal(hub.scheduling.findByExternalId('w9')?.status, 'cancelled')
})
