import t from 'tap'
import { auth, buildWorld, connectMachine, settle } from './world.js'

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

t.test('GET /metrics: admin only, Prometheus text with counters from events', async (t) => {
  const w = await buildWorld(t, { metrics: () => 'cloud_up 1\n' })
  await connectMachine(w, 1)
  await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('kiosk'), payload: { machine_id: 1, status: 'reserved', start_time: w.clock.nowSeconds(), duration: 600 } })
  await settle(w) // the session starts; the dispenser confirms its command
  const n = w.machines.stats().commandsConfirmed
  const command = { machine_id: 1, session_id: null, status: 'active' as const, scheduled_until: null, timestamp: 1, exchange_id: 1, origin_node: 'machine_handler', destination_node: 'machine_001' }
  w.events.emit('command.confirmed', { command, confirmation: { success: true, exchange_id: 1 }, latencyMs: 7 })
  w.events.emit('command.confirmed', { command, confirmation: { success: true, exchange_id: 2 }, latencyMs: 300 })
  w.events.emit('input.rejected', { topic: 'internal/manager', client: 'kiosk_interface', message: 'machine_id: is required' })

  t.equal((await w.app.inject({ url: '/metrics' })).statusCode, 401)
  t.equal((await w.app.inject({ url: '/metrics', headers: auth('kiosk') })).statusCode, 403)
  const res = await w.app.inject({ url: '/metrics', headers: auth('admin') })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0.0.4/)
  const text = res.body
  t.match(text, /^dispenser_event_loop_delay_ms\{quantile="0\.99"\} \d+(\.\d+)?$/m, 'the event-loop delay since the previous scrape')
  const stats = w.machines.stats()
  t.ok(stats.commandsSent > 0 && stats.commandsConfirmed > 0, 'the connected dispenser was commanded and confirmed')
  for (const line of [
    'dispenser_machines 20',
    'dispenser_machines_online 1',
    'dispenser_machines_by_status{status="active"} 1',
    'dispenser_machines_by_status{status="offline"} 19',
    `dispenser_commands_sent_total ${stats.commandsSent}`,
    `dispenser_commands_confirmed_total ${stats.commandsConfirmed}`,
    `dispenser_commands_failed_total ${stats.commandsFailed}`,
    // n real confirmations (0 ms on the fake clock) plus the two emitted above: 7 ms and 300 ms
    `dispenser_command_confirmation_ms_bucket{le="5"} ${n}`,
    `dispenser_command_confirmation_ms_bucket{le="10"} ${n + 1}`,
    `dispenser_command_confirmation_ms_bucket{le="500"} ${n + 2}`,
    `dispenser_command_confirmation_ms_bucket{le="+Inf"} ${n + 2}`,
    'dispenser_command_confirmation_ms_sum 307',
    `dispenser_command_confirmation_ms_count ${n + 2}`,
    'dispenser_bad_input_total{topic="internal/manager"} 1',
    'dispenser_live_feed_clients 0',
    'cloud_up 1',
  ]) {
    t.ok(text.split('\n').includes(line), line)
  }
  t.match(text, /# TYPE dispenser_command_confirmation_ms histogram/)
  t.match(text, /^dispenser_sessions_today\{status="active"\} 1$/m)
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
