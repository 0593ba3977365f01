/**
 * Adoption against the in-process hub with real MQTT clients (issue 16): the enrollment login
 * only while the window is open, only its own external/enroll/{mac}; identify; assign issues a
 * bay secret that works and replaces (revokes) the bay's old device; every step audited.
 */
import t from 'tap'
import mqtt, { type MqttClient } from 'mqtt'
import { startTestHub, nextMessage, waitFor, type TestHub } from '../helpers/hub.js'

const SECRET = 'enroll-secret-for-tests-0001'
const MAC = 'a4cf12b3c4d5'
const MAC2 = 'a4cf12b3c4d6'

async function enrollee(h: TestHub, mac: string, password = SECRET): Promise<MqttClient> {
  const client = await mqtt.connectAsync(h.url, { clientId: `enroll_${mac}`, username: 'enroll', password, keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => client.endAsync(true))
  return client
}

function refusedCode(h: TestHub, options: mqtt.IClientOptions): Promise<number | undefined> {
  return new Promise((resolve) => {
    const client = mqtt.connect(h.url, { reconnectPeriod: 0, keepalive: 10, ...options })
    client.once('connect', () => {
      client.end(true)
      resolve(undefined)
    })
    client.once('error', (error) => {
      client.end(true)
      resolve((error as { code?: number }).code)
    })
  })
}

/** The QoS granted for `filter` (128 = refused); mqtt.js rejects on 128, so read it from the SUBACK. */
function granted(client: MqttClient, filter: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    client.subscribe(filter, { qos: 1 }, (error, grants) => {
      const packet = (error as { packet?: { granted?: number[] } } | null)?.packet
      resolve(packet?.granted?.[0] ?? grants?.[0]?.qos)
    })
  })
}

const announce = (client: MqttClient, mac: string, extra: object = {}) =>
  client.publishAsync(`external/enroll/${mac}`, JSON.stringify({ mac, firmware: '1.0.0', ip_address: '192.168.4.50', rssi: -60, ...extra }), { qos: 1 })

async function pending(h: TestHub) {
  return (await h.api('admin', 'GET', '/api/devices/pending')).body as Array<{ mac: string; state: string; machine_id: number | null; firmware: string }>
}

t.test('the enrollment login is refused while the window is shut, and dropped when it shuts', async (t) => {
  const h = await startTestHub(t, { HUB_ENROLL_SECRET: SECRET })
  t.equal(await refusedCode(h, { clientId: `enroll_${MAC}`, username: 'enroll', password: SECRET }), 5, 'window shut: not authorized')
  const opened = await h.api('admin', 'POST', '/api/enrollment', { open: true, minutes: 2 })
  t.equal(opened.status, 200)
  t.equal(opened.body.open, true)
  t.equal(await refusedCode(h, { clientId: `enroll_${MAC}`, username: 'enroll', password: 'wrong-secret-000000' }), 4, 'a wrong secret is refused')
  t.equal(await refusedCode(h, { clientId: 'enroll_A4CF12B3C4D5', username: 'enroll', password: SECRET }), 2, 'a client id without a well-formed MAC is refused')
  t.equal(await refusedCode(h, { clientId: `enroll_${MAC}`, username: 'enroll', password: SECRET, keepalive: 0 }), 5, 'keep-alive 0 is refused')
  const client = await enrollee(h, MAC)
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
  // the window runs out by itself on the hub's clock
  h.clock.advance(2 * 60_000 + 1)
  await closed
  t.pass('the enrollee was disconnected when the window ran out')
  t.equal(await refusedCode(h, { clientId: `enroll_${MAC}`, username: 'enroll', password: SECRET }), 5, 'shut again: refused')
  const audit = (await h.api('admin', 'GET', '/api/audit?kind=enrollment.closed')).body
  t.equal(audit.entries[0]?.actor, 'system', 'the window running out is audited')
})

t.test('ACL: the enrollment login reaches its own external/enroll/{mac} and nothing else; secrets reach only it', async (t) => {
  const h = await startTestHub(t, { HUB_ENROLL_SECRET: SECRET })
  await h.api('admin', 'POST', '/api/enrollment', { open: true, minutes: 10 })
  const admin = await h.node('admin_portal')
  const seen: Array<{ topic: string; body: string }> = []
  admin.on('message', (topic, payload) => seen.push({ topic, body: payload.toString() }))
  await admin.subscribeAsync(['internal/#', 'external/#'], { qos: 1 })
  t.equal(await granted(admin, `external/enroll/${MAC}`), 128, 'an admin node may not subscribe to an enrollment topic')

  const client = await enrollee(h, MAC)
  for (const filter of ['#', 'external/#', 'external/handler', 'external/machine/12', 'internal/admin', `external/enroll/${MAC2}`, 'external/enroll/+', '$SYS/#']) {
    t.equal(await granted(client, filter), 128, `subscribe ${filter} refused`)
  }
  t.equal(await granted(client, `external/enroll/${MAC}`), 1, 'its own enrollment topic is granted')
  const report = JSON.stringify({ machine_id: 12, status: 'idle', ball_level: 'full' })
  const session = JSON.stringify({ machine_id: 3, status: 'reserved', start_time: h.clock.now() / 1000, duration: 600 })
  await client.publishAsync('external/handler', report, { qos: 1 })
  await client.publishAsync('internal/manager', session, { qos: 1 })
  await client.publishAsync('internal/handler', JSON.stringify({ machine_id: 3, status: 'maintenance' }), { qos: 1 })
  await client.publishAsync('external/machine/12', JSON.stringify({ machine_id: 12, status: 'active' }), { qos: 1 })
  await announce(client, MAC2, { mac: MAC2 })
  await announce(client, MAC)
  await waitFor(() => h.hub.fleet.enrollment.status().pending.length === 1, 5000, 'own announcement listed')
  // a marker through the admin's own path proves the earlier publishes had their chance to arrive
  await h.hub.broker.publish('internal/admin', { marker: true })
  await waitFor(() => seen.some((m) => m.body.includes('marker')), 5000, 'marker')
  t.same(
    seen.filter((m) => m.topic !== 'internal/admin' || m.body.includes('"machine_id":12') || m.body.includes('"duration"')).map((m) => m.topic),
    [],
    'nothing the enrollee published reached any subscriber',
  )
  t.same((await pending(h)).map((d) => d.mac), [MAC], 'an announcement for another MAC is not listed')
  t.equal(h.hub.scheduling.list({}).length, 0, 'no session was booked through the enrollment login')

  // the assign message carries the bay secret: the admin's external/# must not see it
  const heard = nextMessage<{ command: string; secret?: string }>(client, `external/enroll/${MAC}`, (m) => m.command === 'assign')
  t.equal((await h.api('admin', 'POST', `/api/devices/${MAC}/assign`, { machine_id: 12 })).status, 200)
  const assign = await heard
  t.ok(assign.secret && assign.secret.length >= 24, 'the enrollee got its secret')
  await h.hub.broker.publish('internal/admin', { marker2: true })
  await waitFor(() => seen.some((m) => m.body.includes('marker2')), 5000, 'marker2')
  t.notOk(seen.some((m) => m.body.includes(assign.secret!)), 'no other subscriber saw the secret')
})

t.test('identify, then assign: the device logs in as machine_012 with its new secret; a replacement revokes the old one', async (t) => {
  const h = await startTestHub(t, { HUB_ENROLL_SECRET: SECRET })
  t.equal((await h.api('admin', 'POST', `/api/devices/${MAC}/assign`, { machine_id: 12 })).status, 404, 'no such device waiting')
  await h.api('admin', 'POST', '/api/enrollment', { open: true })
  const client = await enrollee(h, MAC)
  await client.subscribeAsync(`external/enroll/${MAC}`, { qos: 1 })
  await announce(client, MAC)
  await waitFor(() => h.hub.fleet.enrollment.status().pending.length === 1, 5000, 'listed')
  const [listed] = await pending(h)
  t.match(listed, { mac: MAC, firmware: '1.0.0', state: 'waiting', machine_id: null })

  t.equal((await h.api('admin', 'POST', '/api/devices/A4-CF/identify', {})).status, 400, 'a malformed MAC is refused naming it')
  const blink = nextMessage<{ command: string; seconds: number }>(client, `external/enroll/${MAC}`, (m) => m.command === 'identify')
  t.equal((await h.api('admin', 'POST', `/api/devices/${MAC}/identify`, { seconds: 8 })).status, 200)
  t.same(await blink, { command: 'identify', seconds: 8 })

  t.equal((await h.api('admin', 'POST', `/api/devices/${MAC}/assign`, { machine_id: 99 })).status, 404, 'a bay not served is refused')
  const heard = nextMessage<{ command: string; machine_id: number; username: string; secret: string }>(client, `external/enroll/${MAC}`, (m) => m.command === 'assign')
  const assigned = await h.api('admin', 'POST', `/api/devices/${MAC}/assign`, { machine_id: 12 })
  t.equal(assigned.status, 200)
  t.match(assigned.body, { state: 'assigning', machine_id: 12 })
  const a = await heard
  t.match(a, { machine_id: 12, username: 'machine_012' })
  // the old secret of bay 12 (secret-12, from the test hub's setup) no longer works
  t.equal(await refusedCode(h, { clientId: 'machine_012', username: 'machine_012', password: 'secret-12', clean: true }), 4, 'the bay secret was replaced')
  const bay = await mqtt.connectAsync(h.url, { clientId: 'machine_012', username: 'machine_012', password: a.secret, keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => bay.endAsync(true))
  await waitFor(() => h.hub.fleet.enrollment.status().pending.length === 0, 5000, 'adopted: no longer pending')
  t.same((await h.api('admin', 'GET', '/api/devices')).body.map((d: { mac: string; machine_id: number }) => [d.mac, d.machine_id]), [[MAC, 12]])

  // A replacement device for bay 12: the first one is dropped and its secret stops working.
  const second = await enrollee(h, MAC2)
  await second.subscribeAsync(`external/enroll/${MAC2}`, { qos: 1 })
  await announce(second, MAC2, { mac: MAC2, firmware: '1.0.1' })
  await waitFor(() => h.hub.fleet.enrollment.status().pending.length === 1, 5000, 'second listed')
  const dropped = new Promise<void>((resolve) => bay.once('close', () => resolve()))
  const heard2 = nextMessage<{ command: string; secret: string }>(second, `external/enroll/${MAC2}`, (m) => m.command === 'assign')
  t.equal((await h.api('admin', 'POST', `/api/devices/${MAC2}/assign`, { machine_id: 12 })).status, 200)
  const b = await heard2
  await dropped
  t.pass('the old device of bay 12 was disconnected')
  t.equal(await refusedCode(h, { clientId: 'machine_012', username: 'machine_012', password: a.secret }), 4, "the old device's secret is revoked")
  t.equal(await refusedCode(h, { clientId: 'machine_012', username: 'machine_012', password: b.secret }), undefined, "the new device's secret works")
  t.same((await h.api('admin', 'GET', '/api/devices')).body.map((d: { mac: string }) => d.mac), [MAC2], 'bay 12 is served by the new device only')

  const kinds = (await h.api('admin', 'GET', '/api/audit?limit=50')).body.entries.map((e: { kind: string }) => e.kind)
  for (const kind of ['enrollment.opened', 'device.identified', 'device.assigned', 'device.adopted']) t.ok(kinds.includes(kind), `${kind} audited`)
  const replaced = (await h.api('admin', 'GET', '/api/audit?kind=device.assigned')).body.entries[0]
  t.match(replaced, { actor: 'token:admin_portal', target: MAC2, machine_id: [12], before: { mac: MAC }, after: { mac: MAC2 } })
})

t.test('a flood of announcements is bounded: rate per login, and the pending list has a cap', async (t) => {
  const h = await startTestHub(t, { HUB_ENROLL_SECRET: SECRET, HUB_ENROLL_MAX_PENDING: '2' })
  await h.api('admin', 'POST', '/api/enrollment', { open: true })
  const macs = ['a00000000001', 'a00000000002', 'a00000000003']
  for (const mac of macs) await announce(await enrollee(h, mac), mac)
  await waitFor(() => h.hub.fleet.enrollment.status().pending.length === 2, 5000, 'two listed')
  const probe = await enrollee(h, 'a00000000002')
  // 40 at once from one login: the broker passes its burst (5), then about 1 a second
  for (let i = 0; i < 40; i++) await announce(probe, 'a00000000002', { rssi: -i })
  await h.hub.broker.publish('internal/admin', { settle: true })
  await new Promise((r) => setImmediate(r))
  const rssi = h.hub.fleet.enrollment.status().pending.find((d) => d.mac === 'a00000000002')?.rssi
  t.ok(rssi !== null && rssi !== undefined && rssi > -10, `the flood was cut after a few (last rssi kept: ${rssi})`)
  t.same((await pending(h)).map((d) => d.mac).sort(), macs.slice(0, 2), 'the third device is not listed: the list is full')
  const bad = await h.api('admin', 'POST', '/api/enrollment', { open: true, minutes: 600 })
  t.equal(bad.status, 400, 'a window longer than an hour is refused')
  t.match(bad.body.message, /minutes/)
})
