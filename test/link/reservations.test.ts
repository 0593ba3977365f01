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

t.test('the webhook needs the HMAC signature over timestamp.body and books like a pull', async (t) => {
  const secret = 'webhook-secret'
  const { hub, clock } = await startTestHub(t, { HUB_WEBHOOK_SECRET: secret })
  const url = `http://127.0.0.1:${hub.ports.http}/api/link/reservations`
  const start = Math.floor(clock.nowSeconds()) + 3 * HOUR
  const now = () => Math.floor(clock.nowSeconds())
  const post = (body: string, sig?: string, ts: number = now()) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-timestamp': String(ts), ...(sig ? { 'x-hub-signature-256': sig } : {}) }, body })
  const create = JSON.stringify({ external_id: 'w9', bays: [5], start, duration_minutes: 45, status: 'booked' })
  t.equal((await post(create)).status, 401, 'unsigned: 401')
  t.equal((await post(create, signature('wrong', create, now()))).status, 401, 'wrong secret: 401')
  t.equal((await post(create, signature(secret, create, now() - 1))).status, 401, 'signed for another timestamp: 401')
  const noStamp = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature(secret, create, now()) }, body: create })
  t.equal(noStamp.status, 401, 'no timestamp: 401')
  t.match(await noStamp.json(), { message: /^x-hub-timestamp: missing/ })
  const ok = await post(create, signature(secret, create, now()))
  t.equal(ok.status, 200)
  const { results } = (await ok.json()) as { results: Array<Record<string, unknown>> }
  t.match(results[0], { external_id: 'w9', status: 'confirmed' })
  t.match(hub.scheduling.findByExternalId('w9'), { machine_id: [5], duration: 45 * 60 })
  const bad = JSON.stringify({ external_id: 'w10', bays: ['x'], start, duration_minutes: 45, status: 'booked' })
  const badRes = await post(bad, signature(secret, bad, now()))
  t.equal(badRes.status, 400)
  t.match(await badRes.json(), { message: /bays\[0\]/ }, 'bad input names the field')
  const cancel = JSON.stringify({ reservations: [{ external_id: 'w9', bays: [5], start, duration_minutes: 45, status: 'cancelled' }] })
  t.equal((await post(cancel, signature(secret, cancel, now()))).status, 200)
  t.equal(hub.scheduling.findByExternalId('w9')?.status, 'cancelled')
  const doc = (await (await fetch(`http://127.0.0.1:${hub.ports.http}/docs/json`)).json()) as { paths: Record<string, { post?: { description?: string } }> }
  t.match(doc.paths['/api/link/reservations']?.post?.description, /x-hub-signature-256: sha256=<hex>/, 'the webhook is in the OpenAPI document')
})

t.test('webhook replay: an old timestamp is refused, an older updated_at is ignored and reported', async (t) => {
  const secret = 'webhook-secret'
  const { hub, clock } = await startTestHub(t, { HUB_WEBHOOK_SECRET: secret })
  const url = `http://127.0.0.1:${hub.ports.http}/api/link/reservations`
  const start = Math.floor(clock.nowSeconds()) + 3 * HOUR
  const send = (body: string, ts: number) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-timestamp': String(ts), 'x-hub-signature-256': signature(secret, body, ts) }, body })
  const v1 = JSON.stringify({ external_id: 'r7', bays: [2], start, duration_minutes: 60, status: 'booked', updated_at: '2026-01-01T10:00:00Z' })
  const v2 = JSON.stringify({ external_id: 'r7', bays: [3], start: start + HOUR, duration_minutes: 60, status: 'booked', updated_at: '2026-01-01T10:05:00Z' })
  const t1 = Math.floor(clock.nowSeconds())
  t.equal((await send(v1, t1)).status, 200)
  t.equal((await send(v2, t1)).status, 200)
  t.match(hub.scheduling.findByExternalId('r7'), { machine_id: [3], start_time: start + HOUR }, 'the newer version applied')

  const replayed = await send(v1, t1)
  t.equal(replayed.status, 200)
  const { results } = (await replayed.json()) as { results: Array<Record<string, unknown>> }
  t.match(results[0], { external_id: 'r7', status: 'stale', reason: /^updated_at: version 2026-01-01T10:00:00\.000Z is older than the applied 2026-01-01T10:05:00\.000Z/ })
  t.match(hub.scheduling.findByExternalId('r7'), { machine_id: [3], start_time: start + HOUR }, 'the replay moved nothing back')
  t.equal(hub.link.reservations.status().pull.stale, 1, 'counted')

  await clock.advance(6 * 60_000)
  const late = await send(v1, t1)
  t.equal(late.status, 401, 'a capture replayed after 5 minutes is refused outright')
  t.match(await late.json(), { message: /^x-hub-timestamp: \d+ is more than 300 s from the hub's clock/ })
  const future = await send(v2, Math.floor(clock.nowSeconds()) + 301)
  t.equal(future.status, 401, 'and so is one dated too far ahead')
  t.equal((await send(v2, Math.floor(clock.nowSeconds()))).status, 200, 'the same version again, freshly signed, is an idempotent repeat')
})
