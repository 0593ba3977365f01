/**
 * The bridge against a real mosquitto as the remote broker: bridged messages arrive under
 * sites/<site>/, and what the hub produced while the remote was stopped arrives after it is back.
 */
import t from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { startTestHub, waitFor } from '../helpers/hub.js'
import { freePort } from '../helpers/free-port.js'

const hasMosquitto = spawnSync('sh', ['-c', 'command -v mosquitto']).status === 0


function startMosquitto(configFile: string): Promise<ChildProcess> {
  const child = spawn('mosquitto', ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] })
  return new Promise((resolve, reject) => {
    let err = ''
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString()
      if (err.includes('running')) resolve(child)
    })
    child.once('exit', (code) => reject(new Error(`mosquitto exited ${code}: ${err}`)))
    setTimeout(() => resolve(child), 1500) // older builds log nothing on start
  })
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM') // saves its persistence: the central subscriber's session survives
  await exited
}

t.test('bridge to a real mosquitto with store-and-forward', { skip: hasMosquitto ? false : 'mosquitto is not installed (.ci/run installs it)' }, async (t) => {
  const port = await freePort()
  // Not t.testdir(): the hub below takes that one. mosquitto keeps the central subscriber's
  // session across its own restart, as a real central broker would.
  const dir = mkdtempSync(join(tmpdir(), 'bridge-remote-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nuser root\npersistence true\npersistence_location ${dir}/\nlog_dest stderr\nlog_type error\nlog_type information\n`)
  let remote = await startMosquitto(conf)
  t.teardown(() => stop(remote))

  const { hub } = await startTestHub(t, { HUB_BRIDGE_URL: `mqtt://127.0.0.1:${port}`, HUB_SITE_ID: 'venue1', HUB_BRIDGE_TOPICS: 'internal/admin' })
  await waitFor(() => (hub.link.status() as { bridge: { connected: boolean } }).bridge.connected, 10_000, 'bridge connected')

  const received: Array<{ topic: string; n: number }> = []
  // The central side: a persistent session that reconnects by itself when the remote is back.
  const central = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 300, clientId: 'central', clean: false })
  t.teardown(() => central.endAsync(true))
  central.on('message', (topic, payload) => {
    const n = (JSON.parse(payload.toString()) as { n?: number }).n
    if (typeof n === 'number') received.push({ topic, n })
  })
  await central.subscribeAsync('sites/venue1/#', { qos: 1 })

  await hub.broker.publish('internal/admin', { n: 1 }, { qos: 1 })
  await hub.broker.publish('internal/kiosk', { n: 99 }, { qos: 1 }) // not a bridged topic
  await waitFor(() => received.length === 1, 10_000, 'first message bridged')
  t.same(received[0], { topic: 'sites/venue1/internal/admin', n: 1 }, 'arrives with the site prefix')

  await stop(remote)
  await waitFor(() => !(hub.link.status() as { bridge: { connected: boolean } }).bridge.connected, 10_000, 'bridge sees the remote gone')
  for (const n of [2, 3, 4]) await hub.broker.publish('internal/admin', { n }, { qos: 1 })
  await waitFor(() => (hub.link.status() as { bridge: { backlog: number } }).bridge.backlog === 3, 5000, 'three messages stored while down')

  remote = await startMosquitto(conf)
  await waitFor(() => received.length >= 4, 15_000, 'stored messages forwarded after the remote came back')
  t.same(received.map((r) => r.n), [1, 2, 3, 4], 'in order, none lost')
  t.ok(received.every((r) => r.topic === 'sites/venue1/internal/admin'))
})
