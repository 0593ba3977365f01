/**
 * Adoption against the real hub (issue 16): src/main.ts as a child process and the virtual
 * dispenser built from the firmware core, running the generic image (no bay, only the shared
 * enrollment secret and its MAC). Outside the window its login is refused; staff open the
 * window, identify it (status LED blinks, the relay never moves) and assign it to bay 12; it
 * stores the bay in its NVS file, logs in as machine_012, and bay 12 turns on for a session.
 * A restart of the dispenser then goes straight to bay 12 from its NVS.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startHubProcess } from '../helpers/hub-process.js'
import { buildDir, buildVirtualDispenser, firmwareSkipReason, startVirtualDispenser } from './virtual.js'

const skip = firmwareSkipReason()
if (skip) t.comment(skip)
t.setTimeout(240_000)

const ENROLL_SECRET = 'generic-image-enroll-secret-01'
const ADMIN_TOKEN = 'admin-token-for-enrollment-e2e'
const MAC = 'a4cf12b3c4d5'

t.test('a generic-image dispenser enrolls in an open window, becomes bay 12 and runs a session', { skip: skip ?? false }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'enroll-hub-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const nvs = join(dataDir, '..', `nvs-${process.pid}-${Date.now()}`)
  t.teardown(() => rm(nvs, { force: true }))
  const [binary, hub] = await Promise.all([
    buildDir(t).then((dir) => buildVirtualDispenser(dir)),
    startHubProcess({ HUB_DATA_DIR: dataDir, HUB_MACHINES: '1-20', HUB_ENROLL_SECRET: ENROLL_SECRET, HUB_ADMIN_TOKEN: ADMIN_TOKEN, HUB_TIMEZONE: 'UTC' }, 120_000),
  ])
  t.teardown(() => hub.kill('SIGKILL'))
  const api = async (method: string, path: string, body?: object) => {
    const res = await fetch(`http://127.0.0.1:${hub.httpPort}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body && { 'content-type': 'application/json' }) },
      ...(body && { body: JSON.stringify(body) }),
    })
    return { status: res.status, body: (await res.json()) as any }
  }

  const start = () => startVirtualDispenser({ binary, port: hub.mqttPort, mac: MAC, enrollSecret: ENROLL_SECRET, nvs, firmware: '1.0.0' })
  let device = start()
  t.teardown(() => device.stop())
  // Window shut: the hub refuses the enrollment login, and the device backs off and retries.
  await device.waitFor((e) => e.event === 'enroll_refused', 30_000)
  const refusedLine = () => hub.logs.find((l) => l.msg === 'connection refused' && l.username === 'enroll')
  for (let i = 0; i < 100 && !refusedLine(); i++) await new Promise((r) => setTimeout(r, 50))
  t.match(refusedLine(), { reason: 'enrollment is closed', clientId: `enroll_${MAC}` }, 'outside the window the enrollment login is refused')
  t.same((await api('GET', '/api/devices/pending')).body, [], 'nothing is waiting')

  t.equal((await api('POST', '/api/enrollment', { open: true, minutes: 5 })).status, 200, 'staff open the window')
  await device.waitFor((e) => e.event === 'enroll_connected', 40_000)
  let pending: Array<{ mac: string; firmware: string; ip_address: string | null }> = []
  for (let i = 0; i < 100 && pending.length === 0; i++) {
    pending = (await api('GET', '/api/devices/pending')).body
    if (pending.length === 0) await new Promise((r) => setTimeout(r, 100))
  }
  t.match(pending, [{ mac: MAC, firmware: '1.0.0', ip_address: '127.0.0.1' }], 'the device is listed with its announcement')

  t.equal((await api('POST', `/api/devices/${MAC}/identify`, { seconds: 2 })).status, 200)
  await device.waitFor((e) => e.event === 'identify' && e.seconds === 2, 10_000)
  await device.waitFor((e) => e.event === 'led' && e.on === false, 10_000)
  await device.waitFor((e) => e.event === 'identify_done', 10_000)
  t.ok(device.events.filter((e) => e.event === 'led').length >= 4, 'the status LED blinked')
  t.notOk(device.events.some((e) => e.event === 'output'), 'identify never touched the dispenser output')

  const assigned = await api('POST', `/api/devices/${MAC}/assign`, { machine_id: 12 })
  t.equal(assigned.status, 200)
  await device.waitFor((e) => e.event === 'adopted' && e.machine_id === 12, 10_000)
  const connected = await device.waitFor((e) => e.event === 'connected' && e.machine_id === 12, 30_000)
  t.ok(connected, 'the device logged in as machine_012 with the secret it stored')
  t.match((await readFile(nvs, 'utf8')).split(' ').slice(0, 2), ['12', 'machine_012'], 'its NVS holds bay 12')
  const devices = (await api('GET', '/api/devices')).body
  t.match(devices, [{ mac: MAC, machine_id: 12, firmware: '1.0.0' }])

  const booked = await api('POST', '/api/sessions', { machine_id: 12, status: 'reserved', start_time: Date.now() / 1000, duration: 60 })
  t.equal(booked.status, 201, `session booked on bay 12 (${JSON.stringify(booked.body).slice(0, 200)})`)
  const on = await device.waitFor((e) => e.event === 'output' && e.on === true, 20_000)
  t.match(on, { machine_id: 12, reason: 'control' }, 'bay 12 turned on for the session')

  // A reboot goes straight to bay 12 (NVS), with no enrollment: the window may be shut now.
  t.equal((await api('POST', '/api/enrollment', { open: false })).status, 200)
  await device.stop()
  device = start()
  await device.waitFor((e) => e.event === 'connected' && e.machine_id === 12, 30_000)
  t.notOk(device.events.some((e) => e.event === 'enrolling'), 'an adopted device does not enroll again')
  const audit = (await api('GET', '/api/audit?limit=50')).body.entries.map((e: { kind: string }) => e.kind)
  for (const kind of ['enrollment.opened', 'device.identified', 'device.assigned', 'device.adopted', 'enrollment.closed']) t.ok(audit.includes(kind), `${kind} audited`)
})
