/**
 * The production entry is a bundle (scripts/build.mjs, issue 17): src/main.ts and the packages it
 * loads in one CommonJS file, dist/hub.cjs, loaded by dist/main.js (src/boot.ts) with V8's code
 * cache. This builds it exactly as `npm run build` does, into its own folder at the repo root, runs
 * it as a process and checks what a bundle can break: files found relative to the code
 * (package.json version, the pages, swagger-ui's assets), ES-module packages (typebox, aedes)
 * inside a CommonJS script, the native LevelDB binding, request validation and response
 * serialization, /metrics (prom-client, required on first use), the broker, and what stays
 * unloaded; then the code cache: made once, used at the next start, and never trusted when damaged.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import t from 'tap'
// @ts-expect-error plain .mjs build script, no types
import { bundleMain } from '../../scripts/build.mjs'
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js'
import { decodeCache, encodeCache, type CacheIdentity } from '../../src/lib/code-cache.js'
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const TOKEN = 'bundle-test-admin-token-0123456789'
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version

const outdir = join(root, `.bundle-test-${process.pid}`)
t.teardown(() => rmSync(outdir, { recursive: true, force: true }))
type Metafile = { outputs: Record<string, { inputs: Record<string, unknown>; imports: Array<{ path: string; kind: string; external?: boolean }> }> }
const meta = await (bundleMain as (dir: string) => Promise<Metafile>)(outdir)

t.test('the bundled entry starts and serves REST, pages, /docs and MQTT', async (t) => {
  const outputs = Object.entries(meta.outputs)
  const entry = outputs.find(([file]) => file.endsWith('/main.js'))
  const bundle = outputs.find(([file]) => file.endsWith('/hub.cjs'))
  t.ok(entry && bundle, 'main.js (the entry) and hub.cjs (the bundle) written')
  t.same(Object.keys(entry![1].inputs).sort(), ['src/boot.ts', 'src/lib/code-cache.ts', 'src/lib/sha256.ts'], 'the entry holds only the loader')
  // The MQTT client library (bridge, demo simulator only) is required from node_modules when first
  // used: never parsed with the bundle, and not loaded by a hub that needs neither (checked below)
  t.notOk(Object.keys(bundle![1].inputs).some((input) => input.startsWith('node_modules/mqtt/')), 'no MQTT client code in the bundle')
  t.ok(bundle![1].imports.some((i) => i.path === 'mqtt' && i.external), 'mqtt stays a package of its own')
  t.ok(Object.keys(bundle![1].inputs).includes('node_modules/abstract-level/index.js'), 'LevelDB\'s JavaScript is bundled')
  t.ok(bundle![1].imports.some((i) => i.path === 'classic-level/binding.js' && i.external), 'its native binding is required from node_modules')

  // which packages the started hub loaded, written by a preloaded probe when the process exits
  const probe = join(outdir, 'probe.cjs')
  const loadedFile = join(outdir, 'loaded.json')
  writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loadedFile)}, JSON.stringify(Object.keys(require.cache))))\n`)
  const hub = await startHubProcess({ HUB_DATA_DIR: t.testdir(), HUB_MACHINES: '1-3', HUB_ADMIN_TOKEN: TOKEN, HUB_TIMEZONE: 'UTC', HUB_MQTT_ALLOW_ANONYMOUS: 'true', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${probe}` }, 60_000, { entry: join(outdir, 'main.js') })
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

  t.equal(await hub.kill('SIGTERM'), 0, 'stops cleanly')
  const loaded = JSON.parse(readFileSync(loadedFile, 'utf8')) as string[]
  t.ok(loaded.some((file) => file.includes('/node_modules/prom-client/')), 'prom-client required from node_modules (the probe sees packages)')
  t.notOk(loaded.some((file) => file.includes('/node_modules/mqtt/')), 'the MQTT client library is not loaded')
})

/** The status the hub logged for the code cache at this start. */
const cacheStatus = (hub: HubProcess) => hub.logs.find((l) => l.msg === 'code cache')?.codeCache

t.test('the code cache: made after the first start, used by the next, never trusted when damaged', async (t) => {
  const dataDir = t.testdir()
  const env = { HUB_DATA_DIR: dataDir, HUB_MACHINES: '1-3', HUB_ADMIN_TOKEN: TOKEN, HUB_TIMEZONE: 'UTC' }
  const cacheDir = join(dataDir, 'code-cache')
  const start = () => startHubProcess(env, 60_000, { entry: join(outdir, 'main.js') })
  /** the one cache file, once written (one second after the hub is up) */
  const cacheFile = async () => {
    for (let i = 0; i < 200; i++) {
      const files = existsSync(cacheDir) ? readdirSync(cacheDir).filter((f) => f.endsWith('.v8cache')) : []
      if (files.length === 1) return join(cacheDir, files[0]!)
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error('no code cache written')
  }
  const healthy = async (hub: HubProcess) => (await fetch(`http://127.0.0.1:${hub.httpPort}/api/health`)).status

  let hub = await start()
  t.equal(cacheStatus(hub), 'none', 'no cache at the first start')
  const file = await cacheFile()
  for (let i = 0; i < 100 && !hub.logs.some((l) => l.msg === 'code cache written'); i++) await new Promise((r) => setTimeout(r, 20))
  t.ok(hub.logs.some((l) => l.msg === 'code cache written'), 'and says so once it is written')
  t.equal(statSync(cacheDir).mode & 0o777, 0o700, 'code-cache/ is 0700')
  t.equal(statSync(file).mode & 0o777, 0o600, 'the cache file is 0600')
  await hub.kill('SIGTERM')
  const made = readFileSync(file)

  hub = await start()
  t.equal(cacheStatus(hub), 'used', 'the next start uses it')
  t.equal(await healthy(hub), 200)
  await hub.kill('SIGKILL')

  const header = made.indexOf(0x0a, made.indexOf(0x0a) + 1)
  const id = JSON.parse(made.subarray(made.indexOf(0x0a) + 1, header).toString()) as CacheIdentity
  /** waits until the hub replaces `before` with a cache that verifies */
  const rewritten = async (before: Buffer) => {
    for (let i = 0; i < 200 && readFileSync(file).equals(before); i++) await new Promise((r) => setTimeout(r, 50))
    return decodeCache(readFileSync(file), id) !== undefined
  }

  // a byte flipped on disk: the checksum fails, V8 never sees it; the hub compiles and writes a new one
  const damaged = Buffer.from(made)
  damaged[damaged.length - 100]! ^= 0xff
  writeFileSync(file, damaged)
  hub = await start()
  t.equal(cacheStatus(hub), 'none', 'a damaged file counts as none')
  t.equal(await healthy(hub), 200)
  t.ok(await rewritten(damaged), 'and is replaced by a good one')
  await hub.kill('SIGTERM')

  // a file whose checksum is right but whose V8 header is not (another V8 wrote it): V8 rejects it
  const payload = Buffer.from(made.subarray(header + 1))
  payload[4]! ^= 0xff // V8's version hash
  const foreign = encodeCache(id, payload)
  writeFileSync(file, foreign)
  hub = await start()
  t.equal(cacheStatus(hub), 'rejected', 'V8 rejects it; the bundle is compiled from source')
  t.equal(await healthy(hub), 200)
  t.ok(await rewritten(foreign), 'and the cache is made again')
  await hub.kill('SIGTERM')
  hub = await start()
  t.equal(cacheStatus(hub), 'used', 'which the next start uses')
  await hub.kill('SIGTERM')
  t.same(readdirSync(cacheDir), [basename(file)], 'no temp files left')

  // nowhere to write it (here a file where the folder goes): the start goes on, and says why
  rmSync(cacheDir, { recursive: true })
  writeFileSync(cacheDir, '')
  hub = await start()
  t.equal(cacheStatus(hub), 'none')
  t.equal(await healthy(hub), 200)
  for (let i = 0; i < 200 && !hub.logs.some((l) => String(l.msg).startsWith('code cache not written')); i++) await new Promise((r) => setTimeout(r, 50))
  t.ok(hub.logs.some((l) => String(l.msg).startsWith('code cache not written') && l.level === 40), 'a warning says the cache was not written')
  await hub.kill('SIGTERM')
})
