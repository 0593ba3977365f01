import t from 'tap'
import { auth, buildWorld, connectMachine, settle } from './world.js'
import { createHubMetrics } from '../../../src/metrics/index.js'
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js'

t.test('GET /api/health is public and counts machines', async (t) => {
  const w = await buildWorld(t, { health: () => ({ cloud: { connected: false } }) })
  await connectMachine(w, 1)
  await connectMachine(w, 2)
  await w.clock.advance(5000)
  const res = await w.app.inject({ url: '/api/health' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { ok: true, version: '9.9.9', uptime_s: 5, machines: { online: 2, total: 20 }, cloud: { connected: false } })
})

t.test('GET /api/me says who the token is', async (t) => {
  const w = await buildWorld(t)
  t.same((await w.app.inject({ url: '/api/me', headers: auth('admin') })).json(), { name: 'admin_portal', role: 'admin' })
  t.same((await w.app.inject({ url: '/api/me', headers: auth('kiosk') })).json(), { name: 'kiosk_interface', role: 'kiosk' })
  t.equal((await w.app.inject({ url: '/api/me', headers: auth('bad') })).statusCode, 401)
  const malformed = await w.app.inject({ url: '/api/me', headers: { authorization: 'Basic abc' } })
  t.equal(malformed.statusCode, 401)
  t.match(malformed.json().message, /missing bearer token/)
})

t.test('GET /metrics: monitor/admin only, valid Prometheus text with values from state and events', async (t) => {
  const w = await buildWorld(t)
  const real = new Map<string, number>() // confirmations the dispenser really sent, by status commanded
  w.events.on('command.confirmed', 'test', ({ command }) => void real.set(command.status, (real.get(command.status) ?? 0) + 1))
  await connectMachine(w, 1) // brought to idle on connect
  await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('kiosk'), payload: { machine_id: 1, status: 'reserved', start_time: w.clock.nowSeconds(), duration: 600 } })
  await settle(w) // the session starts; the dispenser confirms its command
  const n = real.get('active') ?? 0
  t.ok(n >= 1 && (real.get('idle') ?? 0) >= 1, 'the dispenser confirmed idle on connect and active at the start')
  const command = { machine_id: 1, session_id: null, status: 'active' as const, scheduled_until: null, timestamp: 1, exchange_id: 1, origin_node: 'machine_handler', destination_node: 'machine_001' }
  w.events.emit('command.confirmed', { command, confirmation: { success: true, exchange_id: 1 }, latencyMs: 7 })
  w.events.emit('command.confirmed', { command, confirmation: { success: true, exchange_id: 2 }, latencyMs: 300 })
  w.events.emit('input.rejected', { topic: 'internal/manager', client: 'kiosk_interface', message: 'machine_id: is required' })
  w.events.emit('input.rejected', { topic: 'bad "topic"\\', client: 'kiosk_interface', message: 'quotes and backslashes are escaped' })

  t.equal((await w.app.inject({ url: '/metrics' })).statusCode, 401)
  t.equal((await w.app.inject({ url: '/metrics', headers: auth('kiosk') })).statusCode, 403)
  const res = await w.app.inject({ url: '/metrics', headers: auth('admin') })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  const families = parsePrometheusText(res.body)
  const value = (name: string, labels: Record<string, string> = {}) => sampleValue(families, name, labels)
  const stats = w.machines.stats()
  t.ok(stats.commandsSent > 0 && stats.commandsConfirmed > 0, 'the connected dispenser was commanded and confirmed')
  t.equal(value('dispenser_machines'), 20)
  t.equal(value('dispenser_machines_online'), 1)
  t.equal(value('dispenser_machines_by_status', { status: 'active' }), 1)
  t.equal(value('dispenser_machines_by_status', { status: 'offline' }), 19)
  t.equal(value('dispenser_commands_sent_total'), stats.commandsSent)
  t.equal(value('dispenser_commands_confirmed_total'), stats.commandsConfirmed)
  t.equal(value('dispenser_commands_failed_total'), stats.commandsFailed)
  t.equal(families.get('dispenser_command_confirmation_ms')?.type, 'histogram')
  // n real confirmations (0 ms on the fake clock) plus the two emitted above: 7 ms and 300 ms
  const active = { status: 'active' }
  t.equal(value('dispenser_command_confirmation_ms_bucket', { ...active, le: '1' }), n)
  t.equal(value('dispenser_command_confirmation_ms_bucket', { ...active, le: '5' }), n)
  t.equal(value('dispenser_command_confirmation_ms_bucket', { ...active, le: '10' }), n + 1)
  t.equal(value('dispenser_command_confirmation_ms_bucket', { ...active, le: '500' }), n + 2)
  t.equal(value('dispenser_command_confirmation_ms_bucket', { ...active, le: '+Inf' }), n + 2)
  t.equal(value('dispenser_command_confirmation_ms_sum', active), 307)
  t.equal(value('dispenser_command_confirmation_ms_count', active), n + 2)
  t.equal(value('dispenser_command_confirmation_ms_count', { status: 'idle' }), real.get('idle'), 'labelled by the status commanded')
  t.equal(value('dispenser_booking_confirmation_ms_count', { door: 'http', outcome: 'confirmed' }), 1, 'the booking above, timed')
  t.equal(value('dispenser_bad_input_total', { topic: 'internal/manager' }), 1)
  t.equal(value('dispenser_bad_input_total', { topic: 'bad "topic"\\' }), 1, 'a label value with quotes and backslashes survives escaping')
  t.equal(value('dispenser_live_feed_clients'), 0)
  t.equal(value('dispenser_sessions_today', { status: 'active' }), 1)
  t.equal(value('dispenser_alerts_open'), 0)
  t.equal(value('dispenser_schedule_grids_built_total'), w.scheduling.gridStats().builds)
  t.equal(value('dispenser_schedule_grids_cached_total'), w.scheduling.gridStats().hits)
  const writes = w.scheduling.stats()
  t.ok(writes.steps >= 1, 'the booking above went through the writer')
  t.equal(value('dispenser_session_write_batches_total'), writes.batches)
  t.equal(value('dispenser_session_write_steps_total'), writes.steps)
  for (const quantile of ['0.5', '0.99', '1']) t.ok(value('dispenser_event_loop_delay_ms', { quantile })! >= 0, `event-loop delay since the previous scrape, quantile ${quantile}`)
  // the standard collectors (prom-client), without a prefix
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds']) {
    t.ok(families.has(name), name)
  }
  t.ok(value('process_resident_memory_bytes')! > 10e6, 'the RSS is read from the process')
})

t.test('GET /metrics renders the families the hub adds (link, broker, clock) in its own registry', async (t) => {
  const metrics = createHubMetrics()
  t.teardown(() => metrics.stop())
  let up = 1
  metrics.add({ name: 'cloud_up', help: 'a module family', type: 'gauge', read: () => up })
  const w = await buildWorld(t, { metrics })
  const scrape = async () => parsePrometheusText((await w.app.inject({ url: '/metrics', headers: auth('admin') })).body)
  t.equal(sampleValue(await scrape(), 'cloud_up'), 1)
  up = 0
  t.equal(sampleValue(await scrape(), 'cloud_up'), 0, 'read again at each scrape')
  t.ok((await scrape()).has('dispenser_machines'), 'next to the HTTP families')
})

t.test('OpenAPI at /docs lists the routes', async (t) => {
  const w = await buildWorld(t)
  const res = await w.app.inject({ url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const spec = res.json()
  for (const path of ['/api/health', '/api/sessions', '/api/sessions/{id}', '/api/schedule', '/api/availability', '/api/machines/{id}/override', '/api/alerts/{id}/ack', '/metrics']) {
    t.ok(spec.paths[path], path)
  }
  t.notOk(spec.paths['/assets/{file}'], 'pages hidden from the API docs')
  t.equal((await w.app.inject({ url: '/docs' })).statusCode < 400, true, 'swagger UI served')
})
