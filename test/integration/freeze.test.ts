/**
 * Issue 15: the hub process frozen (SIGSTOP, a stalled Pi) while a dispenser keeps trying to
 * reconnect. On SIGCONT the kernel hands the hub every CONNECT queued meanwhile, each on a socket
 * the dispenser already gave up. Before the fix one of them was counted as the machine's
 * connection: the control sent to it went unanswered three times and raised a false
 * `command_failed` alert, and the machine showed online with nobody behind it.
 */
import t from 'tap'
import mqtt, { type MqttClient } from 'mqtt'
import { addMachine } from '../helpers/broker.js'
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js'

const TOKEN = 'freeze-test-admin-token-0123456789'
const TIMEOUT_MS = 200 // HUB_COMMAND_TIMEOUT_MS: 3 tries give up after 200 + 400 + 800 ms

/** A dispenser as the firmware behaves: clean session, confirms every control, retries connecting. */
function dispenser(port: number, options: { connectTimeout: number; reconnectPeriod: number }): MqttClient {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'machine_001', username: 'machine_001', password: 's1', clean: true, keepalive: 2, ...options })
  client.on('connect', () => void client.subscribe('external/machine/1', { qos: 1 }))
  client.on('message', (_topic, payload) => {
    const m = JSON.parse(payload.toString()) as { exchange_id?: number; status?: string; session_id?: number | null; success?: boolean }
    if (m.exchange_id === undefined || m.success !== undefined) return
    client.publish('external/handler', JSON.stringify({ success: true, machine_id: 1, exchange_id: m.exchange_id, status: m.status, session_id: m.session_id ?? null }), { qos: 1 })
  })
  client.on('error', () => {})
  return client
}

async function api(hub: HubProcess, path: string): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${hub.httpPort}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })
  return res.json()
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not seen within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

t.test('stale CONNECTs after SIGSTOP/SIGCONT: no false command_failed, the machine is offline until it really reconnects', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_MACHINES: '1-2', HUB_TIMEZONE: 'UTC', HUB_LOG_LEVEL: 'debug', HUB_ADMIN_TOKEN: TOKEN, HUB_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS) })
  t.teardown(() => hub.kill())
  const first = dispenser(hub.mqttPort, { connectTimeout: 400, reconnectPeriod: 100 })
  await until(async () => ((await api(hub, '/api/machines/1')) as { machine: { online: boolean } }).machine.online, 'machine 1 online')

  hub.child.kill('SIGSTOP')
  // Frozen: the dispenser's keep-alive runs out, it drops the socket and reconnects every
  // 0.5 s; the kernel completes each TCP handshake, and each CONNECT waits in the backlog.
  const closes = { n: 0 }
  first.on('close', () => closes.n++)
  await until(() => closes.n >= 4, 'four abandoned connection attempts')
  first.end(true) // the dispenser now backs off (the firmware waits up to seconds between tries)
  const from = hub.logs.length
  hub.child.kill('SIGCONT')
  t.teardown(() => void hub.child.kill('SIGCONT'))

  await until(async () => ((await api(hub, '/api/machines/1')) as { machine: { online: boolean } }).machine.online === false, 'machine 1 offline after the freeze')
  // Longer than the whole retry budget (1.4 s): a command sent to a stale connection would have failed by now.
  await new Promise((r) => setTimeout(r, 6 * TIMEOUT_MS * 3))
  const stale = hub.logs.slice(from).filter((l) => l.msg === 'client closed while connecting; not counted as up').length
  t.ok(stale >= 1, `${stale} stale CONNECTs were seen and not counted as up`)
  const machine = ((await api(hub, '/api/machines/1')) as { machine: { online: boolean; status: string; error: string | null } }).machine
  t.match(machine, { online: false, status: 'offline', error: null }, 'offline, not in error')
  t.notOk(hub.logs.slice(from).some((l) => l.msg === 'command failed'), 'no command failed')

  // The real reconnect: the machine is brought to its state and confirms.
  const second = dispenser(hub.mqttPort, { connectTimeout: 5000, reconnectPeriod: 1000 })
  t.teardown(() => second.endAsync(true))
  // reported_status is set by the machine's Confirmation of the control sent on connect
  await until(async () => ((await api(hub, '/api/machines/1')) as { machine: { reported_status: string | null } }).machine.reported_status === 'idle', 'machine 1 confirmed idle after reconnect')
  const alerts = (await api(hub, '/api/alerts')) as Array<{ kind: string; machine_id: number }>
  t.same(alerts.filter((a) => a.kind === 'command_failed'), [], 'no command_failed alert was ever raised')
})
