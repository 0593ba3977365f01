/**
 * The production entry is a bundle (scripts/build.mjs, issue 17): src/main.ts and the packages it
 * loads in one file, chunks for what loads on first use. This builds it exactly as `npm run build`
 * does, into its own folder at the repo root, runs it as a process and checks what a bundle can
 * break: files found relative to the code (package.json version, the pages, swagger-ui's assets),
 * CommonJS packages inside an ES module, the native LevelDB binding, request validation and
 * response serialization, /metrics (prom-client, a CommonJS chunk loaded on first use), and the broker.
 */
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import t from 'tap'
// @ts-expect-error plain .mjs build script, no types
import { bundleMain } from '../../scripts/build.mjs'
import { startHubProcess } from '../helpers/hub-process.js'
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const TOKEN = 'bundle-test-admin-token-0123456789'
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version

t.test('the bundled entry starts and serves REST, pages, /docs and MQTT', async (t) => {
  const outdir = join(root, `.bundle-test-${process.pid}`)
  t.teardown(() => rmSync(outdir, { recursive: true, force: true }))
  type Metafile = { outputs: Record<string, { inputs: Record<string, unknown>; imports: Array<{ path: string; kind: string }> }> }
  const meta = await (bundleMain as (dir: string) => Promise<Metafile>)(outdir)
  // The MQTT client library (bridge, demo simulator only) sits in a chunk read on first use: not in
  // the entry, nor in any chunk the entry imports statically
  const outputs = Object.entries(meta.outputs)
  const entry = outputs.find(([file]) => file.endsWith('/main.js'))
  t.ok(entry, 'main.js written')
  const fromEntry = new Set<string>()
  const walk = (file: string) => {
    if (fromEntry.has(file)) return
    fromEntry.add(file)
    for (const i of meta.outputs[file]?.imports ?? []) if (i.kind === 'import-statement') walk(i.path)
  }
  walk(entry![0])
  const hasMqtt = (file: string) => Object.keys(meta.outputs[file]!.inputs).some((input) => input.startsWith('node_modules/mqtt/'))
  t.notOk([...fromEntry].some((file) => meta.outputs[file] && hasMqtt(file)), 'no MQTT client code loaded with main.js')
  t.ok(outputs.some(([file]) => hasMqtt(file)), 'the MQTT client is in a chunk')

  const hub = await startHubProcess({ HUB_DATA_DIR: t.testdir(), HUB_MACHINES: '1-3', HUB_ADMIN_TOKEN: TOKEN, HUB_TIMEZONE: 'UTC', HUB_MQTT_ALLOW_ANONYMOUS: 'true' }, 60_000, { entry: join(outdir, 'main.js') })
  t.teardown(() => hub.kill())
  const base = `http://127.0.0.1:${hub.httpPort}`
  const auth = { authorization: `Bearer ${TOKEN}` }

  const health = await fetch(`${base}/api/health`)
  t.equal(health.status, 200)
  t.equal(((await health.json()) as { version: string }).version, version, 'package.json found from the bundle')

  const admin = await fetch(`${base}/`)
  t.equal(admin.status, 200)
  t.match(await admin.text(), /<html/i, 'the admin page is served from src/interfaces/public')

  const spec = await fetch(`${base}/docs/json`)
  t.equal(spec.status, 200)
  t.ok(((await spec.json()) as { paths: Record<string, unknown> }).paths['/api/sessions'], 'the OpenAPI spec lists the routes')
  const ui = await fetch(`${base}/docs/`)
  t.equal(ui.status, 200)
  t.match(await ui.text(), /swagger-ui/, 'the /docs page')
  for (const [file, type] of [['swagger-ui.css', /text\/css/], ['swagger-ui-bundle.js', /javascript/], ['logo.svg', /image\/svg\+xml/]] as const) {
    const asset = await fetch(`${base}/docs/static/${file}`)
    t.equal(asset.status, 200, `swagger-ui's own ${file} is found`)
    t.match(asset.headers.get('content-type'), type)
    await asset.arrayBuffer()
  }

  // a booking: body validation (TypeBox), the durable write (classic-level), the response serializer
  const start = Math.ceil(Date.now() / 1000 / 300) * 300 + 3600
  const bad = await fetch(`${base}/api/sessions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ machine_id: 1, start_time: start, duration: 'long' }) })
  t.equal(bad.status, 400)
  t.match(await bad.text(), /duration/, 'the refusal names the field')
  const booked = await fetch(`${base}/api/sessions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ machine_id: 1, status: 'reserved', start_time: start, duration: 1800 }) })
  t.equal(booked.status, 201)
  const session = (await booked.json()) as { session_id: number; machine_id: number[] }
  t.same(session.machine_id, [1])
  const read = await fetch(`${base}/api/sessions/${session.session_id}`, { headers: auth })
  t.equal(read.status, 200)
  t.equal(((await read.json()) as { session_id: number }).session_id, session.session_id)

  // /metrics loads prom-client (CommonJS, outside the bundle) with import() on first use
  const metrics = await fetch(`${base}/metrics`, { headers: auth })
  t.equal(metrics.status, 200)
  const families = parsePrometheusText(await metrics.text())
  t.equal(sampleValue(families, 'dispenser_booking_confirmation_ms_count', { door: 'http', outcome: 'confirmed' }), 1, '/metrics from the lazily loaded client, the booking timed')
  t.ok(sampleValue(families, 'process_resident_memory_bytes')! > 0, 'with the process collectors')

  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'bundle-test', reconnectPeriod: 0 })
  t.teardown(() => client.endAsync())
  t.ok(client.connected, 'the broker accepts a connection')
})
