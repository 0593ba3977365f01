/**
 * Firmware rollout against the in-process hub (issue 16), with 20 scripted dispensers on real
 * MQTT that follow the update protocol: fetch the image over HTTP from the hub, check its
 * SHA-256, "install" by reporting the new firmware, or report `refused` (hash mismatch) or
 * `rolled_back` (a failed boot). Time runs on the hub's FakeClock.
 */
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import mqtt, { type MqttClient } from 'mqtt'
import { startTestHub, waitFor, type TestHub } from '../helpers/hub.js'

const FAIL_BOOT_MARKER = 'SIMULATE-FAILED-BOOT'

interface Bay {
  id: number
  firmware: string
  status: 'idle' | 'active'
  client: MqttClient
  updates: number
}

async function bay(h: TestHub, id: number): Promise<Bay> {
  const client = await mqtt.connectAsync(h.url, { clientId: `machine_${id}`, username: `machine_${id}`, password: `secret-${id}`, keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => client.endAsync(true))
  const b: Bay = { id, firmware: '1.0.0', status: 'idle', client, updates: 0 }
  const report = () => client.publishAsync('external/handler', JSON.stringify({ machine_id: id, status: b.status, ball_level: 'full', firmware: b.firmware }))
  const ota = (ota: string, version: string, message: string) => client.publishAsync('external/handler', JSON.stringify({ machine_id: id, ota, version, message, firmware: b.firmware }))
  client.on('message', (_topic, payload) => {
    const m = JSON.parse(payload.toString()) as Record<string, any>
    if (m.request_type === 'update') {
      b.updates++
      void (async () => {
        await ota('downloading', m.version, '')
        const image = Buffer.from(await (await fetch(m.url)).arrayBuffer())
        if (image.length !== m.size || createHash('sha256').update(image).digest('hex') !== m.sha256) return ota('refused', m.version, 'sha256 does not match')
        if (image.includes(FAIL_BOOT_MARKER)) return ota('rolled_back', m.version, 'not healthy after boot')
        b.firmware = m.version
        await report()
      })()
    } else if (typeof m.exchange_id === 'number' && typeof m.status === 'string' && m.success === undefined) {
      b.status = m.status === 'active' ? 'active' : 'idle'
      void client.publishAsync('external/handler', JSON.stringify({ success: true, exchange_id: m.exchange_id, session_id: m.session_id, status: m.status, machine_id: id }))
      void report()
    }
  })
  await client.subscribeAsync(`external/machine/${id}`, { qos: 1 })
  await report()
  return b
}

async function upload(h: TestHub, version: string, body: Buffer) {
  const res = await fetch(`http://127.0.0.1:${h.hub.ports.http}/api/firmware?version=${version}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.hub.adminToken}`, 'content-type': 'application/octet-stream' },
    body,
  })
  return { status: res.status, body: (await res.json()) as any }
}

/** Lets the hub's fake time run in 1 s steps until `cond` holds. */
async function runUntil(t: Test, h: TestHub, cond: () => boolean, what: string, maxSteps = 400) {
  for (let i = 0; i < maxSteps && !cond(); i++) {
    await h.clock.advance(1000)
    await new Promise((r) => setTimeout(r, 15))
  }
  t.ok(cond(), what)
}

const states = (h: TestHub) => {
  const r = h.hub.fleet.rollouts.current()
  return new Map((r?.bays ?? []).map((b) => [b.machine_id, b.state]))
}

t.test('a rollout to 20 bays: 18 idle ones update at once, the two in a session after it ends', async (t) => {
  const h = await startTestHub(t, { HUB_FIRMWARE_UPDATE_TIMEOUT_S: '120' })
  const bays = await Promise.all(Array.from({ length: 20 }, (_, i) => bay(h, i + 1)))
  await waitFor(() => h.hub.machines.list().filter((m) => m.online && m.firmware === '1.0.0').length === 20, 10_000, 'all 20 online on 1.0.0')
  for (const id of [3, 7]) {
    const booked = await h.api('admin', 'POST', '/api/sessions', { machine_id: id, status: 'reserved', start_time: h.clock.now() / 1000, duration: 60 })
    t.equal(booked.status, 201)
  }
  await runUntil(t, h, () => bays[2]!.status === 'active' && bays[6]!.status === 'active', 'bays 3 and 7 are in their sessions', 20)

  const image = Buffer.alloc(200_000, 7)
  const up = await upload(h, '1.1.0', image)
  t.equal(up.status, 201)
  t.match(up.body, { version: '1.1.0', size: 200_000, sha256: createHash('sha256').update(image).digest('hex'), signed: false })
  t.notOk('token' in up.body, 'the download token is not listed')

  const started = await h.api('admin', 'POST', '/api/firmware/rollouts', { version: '1.1.0', machines: '1-20', batch_size: 20 })
  t.equal(started.status, 201)
  await runUntil(t, h, () => [...states(h).values()].filter((s) => s === 'updated').length === 18, '18 bays updated', 30)
  t.equal(states(h).get(3), 'waiting')
  t.equal(states(h).get(7), 'waiting')
  t.equal(bays[2]!.updates + bays[6]!.updates, 0, 'no update command reached a bay in a session')
  t.match(h.hub.fleet.rollouts.current()!.bays.find((b) => b.machine_id === 3)!.message, /in a session/)
  t.equal(h.hub.fleet.rollouts.current()!.state, 'running')

  await runUntil(t, h, () => states(h).get(3) === 'updated' && states(h).get(7) === 'updated', 'after their sessions, bays 3 and 7 updated too', 120)
  t.ok(bays.every((b) => b.firmware === '1.1.0'), 'every bay runs 1.1.0')
  t.equal(h.hub.fleet.rollouts.current()!.state, 'completed')
  const list = (await h.api('admin', 'GET', '/api/firmware/rollouts')).body
  t.equal(list[0].bays.filter((b: { state: string }) => b.state === 'updated').length, 20, 'progress per bay over REST')
  const kinds = (await h.api('admin', 'GET', '/api/audit?limit=100')).body.entries.map((e: { kind: string }) => e.kind)
  t.ok(kinds.includes('firmware.uploaded') && kinds.includes('rollout.started') && kinds.includes('rollout.bay'), 'upload, rollout and bay outcomes audited')

  // A corrupted image (the file changed after upload): the device refuses it, the bay stays on 1.1.0.
  const up2 = await upload(h, '1.2.0', Buffer.alloc(50_000, 1))
  t.equal(up2.status, 201)
  await writeFile(join(h.dataDir, 'firmware', '1.2.0.bin'), Buffer.alloc(50_000, 2))
  t.equal((await h.api('admin', 'POST', '/api/firmware/rollouts', { version: '1.2.0', machines: '1' })).status, 201)
  await runUntil(t, h, () => states(h).get(1) === 'failed', 'bay 1: update failed', 30)
  t.match(h.hub.fleet.rollouts.current()!.bays[0], { state: 'failed', message: /refused: sha256/ })
  t.equal(bays[0]!.firmware, '1.1.0', 'bay 1 stays on the old version')

  // A failed boot: the device rolls back and says so; the hub marks the bay `update failed`.
  t.equal((await upload(h, '1.3.0', Buffer.concat([Buffer.alloc(1000), Buffer.from(FAIL_BOOT_MARKER)]))).status, 201)
  t.equal((await h.api('admin', 'POST', '/api/firmware/rollouts', { version: '1.3.0', machines: '2' })).status, 201)
  await runUntil(t, h, () => states(h).get(2) === 'failed', 'bay 2: update failed', 30)
  t.match(h.hub.fleet.rollouts.current()!.bays[0], { state: 'failed', message: /rolled back/ })
  t.equal(bays[1]!.firmware, '1.1.0', 'bay 2 runs the old version again')
})

t.test('uploads are capped while they stream, versions are unique, and a silent bay times out', async (t) => {
  const h = await startTestHub(t, { HUB_FIRMWARE_MAX_BYTES: '4096', HUB_FIRMWARE_UPDATE_TIMEOUT_S: '30' })
  const big = await upload(h, '2.0.0', Buffer.alloc(5000))
  t.equal(big.status, 413)
  t.match(big.body.message, /larger than 4096/)
  t.equal((await upload(h, '2.0.0', Buffer.alloc(100, 3))).status, 201)
  t.equal((await upload(h, '2.0.0', Buffer.alloc(100, 4))).status, 409, 'the same version again is refused')
  t.equal((await upload(h, 'bad version!', Buffer.alloc(10))).status, 400)
  t.equal((await h.api('admin', 'POST', '/api/firmware/rollouts', { version: '9.9.9', machines: '1' })).status, 404)
  t.equal((await h.api('admin', 'POST', '/api/firmware/rollouts', { version: '2.0.0', machines: '1-99' })).status, 404, 'bays not served are refused')
  // bay 5 is online but never answers the update
  const silent = await mqtt.connectAsync(h.url, { clientId: 'machine_5', username: 'machine_5', password: 'secret-5', keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => silent.endAsync(true))
  await silent.publishAsync('external/handler', JSON.stringify({ machine_id: 5, status: 'idle', ball_level: 'full', firmware: '1.0.0' }))
  await waitFor(() => h.hub.machines.get(5)?.online === true, 5000, 'bay 5 online')
  t.equal((await h.api('admin', 'POST', '/api/firmware/rollouts', { version: '2.0.0', machines: '5-6' })).status, 201)
  await runUntil(t, h, () => states(h).get(5) === 'failed', 'bay 5: update failed after the timeout', 60)
  t.match(h.hub.fleet.rollouts.current()!.bays[0]!.message, /not back on 2.0.0 within 30 s/)
  t.equal(states(h).get(6), 'waiting', 'offline bay 6 waits')
  t.match(h.hub.fleet.rollouts.current()!.bays[1]!.message, /offline/)
})

t.test('with HUB_FIRMWARE_PUBLIC_KEY set, only images signed by its Ed25519 key are accepted', async (t) => {
  const { generateKeyPairSync, sign } = await import('node:crypto')
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64')
  const h = await startTestHub(t, { HUB_FIRMWARE_PUBLIC_KEY: raw })
  const image = Buffer.alloc(3000, 5)
  const post = async (query: string, body: Buffer) => {
    const res = await fetch(`http://127.0.0.1:${h.hub.ports.http}/api/firmware?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.hub.adminToken}`, 'content-type': 'application/octet-stream' },
      body,
    })
    return { status: res.status, body: (await res.json()) as any }
  }
  const unsigned = await post('version=3.0.0', image)
  t.equal(unsigned.status, 400)
  t.match(unsigned.body.message, /signature: required/)
  const other = generateKeyPairSync('ed25519').privateKey
  const forged = await post(`version=3.0.0&signature=${encodeURIComponent(sign(null, image, other).toString('base64'))}`, image)
  t.equal(forged.status, 400)
  t.match(forged.body.message, /does not verify/)
  const tampered = await post(`version=3.0.0&signature=${encodeURIComponent(sign(null, image, privateKey).toString('base64'))}`, Buffer.alloc(3000, 6))
  t.equal(tampered.status, 400, 'a signature of another image does not verify')
  const good = await post(`version=3.0.0&signature=${encodeURIComponent(sign(null, image, privateKey).toString('base64'))}`, image)
  t.equal(good.status, 201)
  t.equal(good.body.signed, true)
  t.same((await h.api('admin', 'GET', '/api/firmware')).body.map((i: { version: string }) => i.version), ['3.0.0'], 'only the signed image is stored')
})
