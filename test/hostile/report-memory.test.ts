/**
 * Issue 10 defect 5: a dispenser could grow hub memory: reports padded with a 1 MB field were
 * kept whole, 100 per machine, in the report history. Now external/handler refuses a payload
 * over 4 KiB before parsing it, and a report under the cap keeps only the schema's fields.
 * The packet limit is raised here so the payloads reach the inbox (the transport limit is
 * tested with the broker); the inbox bound must hold on its own.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import mqtt from 'mqtt'
import { addMachine } from '../helpers/broker.js'
import { nextMessage } from '../helpers/hub.js'
import { startHubProcess } from '../helpers/hub-process.js'

const ADMIN = 'admin-token-for-the-report-test'

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024
}

t.test('padded reports are refused or stripped; the history does not hold them', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 4, 'secret-4')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_MACHINES: '1-5', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: ADMIN, HUB_MQTT_MAX_PACKET: String(2 * 1024 * 1024) })
  t.teardown(() => hub.kill())
  const m4 = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'machine_004', username: 'machine_004', password: 'secret-4', keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => m4.endAsync(true))
  await m4.subscribeAsync('external/machine/4', { qos: 1 })
  const report = { machine_id: 4, status: 'idle', ball_level: 'full', firmware: '1.0.0' }

  const refusals: Array<Record<string, unknown>> = []
  let twenty: () => void = () => {}
  const allRefused = new Promise<void>((resolve) => (twenty = resolve))
  m4.on('message', (_t, payload) => {
    const m = JSON.parse(payload.toString()) as Record<string, unknown>
    if (m.success === false && refusals.push(m) === 20) twenty()
  })
  const megabyte = 'x'.repeat(1024 * 1024)
  const rssBefore = rssBytes(hub.child.pid!)
  for (let i = 0; i < 20; i++) await m4.publishAsync('external/handler', JSON.stringify({ ...report, pad: megabyte, uptime_s: i }), { qos: 1 })
  await allRefused
  t.equal(refusals.length, 20, 'each padded report answered')
  t.match(refusals[0], { success: false, machine_id: 4, message: '(payload): payload is larger than 4096 bytes', destination_node: 'machine_004' })

  // Under the cap, unknown fields are dropped before the report is stored.
  for (let i = 0; i < 100; i++) await m4.publishAsync('external/handler', JSON.stringify({ ...report, uptime_s: i, pad: 'y'.repeat(3000), nested: { deep: [1, 2, 3] } }), { qos: 1 })
  const machine = await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/machines/4`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as { history: Array<{ report: Record<string, unknown> }>; machine: { firmware: string } }
  t.equal(machine.history.length, 100, 'the history is bounded at 100')
  t.notOk(machine.history.some((h) => 'pad' in h.report || 'nested' in h.report), 'no unknown field is kept')
  t.equal(machine.machine.firmware, '1.0.0')
  const grownMb = (rssBytes(hub.child.pid!) - rssBefore) / 1024 / 1024
  t.comment(`RSS growth after 20 x 1 MB and 100 x 3 KB padded reports: ${grownMb.toFixed(1)} MB`)
  // Before the fix the history alone held 20 MB of padding; transit garbage may stay until the next major GC.
  t.ok(grownMb < 100, `RSS grew ${grownMb.toFixed(1)} MB`)

  // Strings with a known field are bounded by the schema.
  const longFirmware = nextMessage(m4, 'external/machine/4', (m) => m.success === false && String(m.message).startsWith('firmware'))
  await m4.publishAsync('external/handler', JSON.stringify({ ...report, firmware: 'f'.repeat(200) }), { qos: 1 })
  t.match(await longFirmware, { message: /^firmware: / })
})
