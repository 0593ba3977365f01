import t from 'tap'
import { pino } from 'pino'
import { EventBus } from '../../src/lib/event-bus.js'
import { createHubMetrics, renderFamilies, timeBooking, LATENCY_BUCKETS_MS, PENDING_MAX } from '../../src/metrics/index.js'
import type { HubEvents } from '../../src/protocol/events.js'
import type { MachineControl } from '../../src/protocol/messages.js'
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js'

const scrape = async (metrics: ReturnType<typeof createHubMetrics>) => parsePrometheusText((await metrics.render()).text)

const control = (status: MachineControl['status']): MachineControl => ({
  machine_id: 1, session_id: null, status, scheduled_until: null, timestamp: 1, exchange_id: 1, origin_node: 'machine_handler', destination_node: 'machine_001',
})

t.test('observations made before the client is loaded are kept and land in the histograms', async (t) => {
  const events = new EventBus<HubEvents>(pino({ level: 'silent' }))
  const metrics = createHubMetrics({ events })
  t.teardown(() => metrics.stop())
  metrics.booking('mqtt', 'confirmed', 3)
  metrics.booking('http', 'refused', 0.4)
  events.emit('command.confirmed', { command: control('active'), confirmation: { success: true, exchange_id: 1 }, latencyMs: 12 })
  const families = await scrape(metrics)
  t.equal(sampleValue(families, 'dispenser_booking_confirmation_ms_count', { door: 'mqtt', outcome: 'confirmed' }), 1)
  t.equal(sampleValue(families, 'dispenser_booking_confirmation_ms_bucket', { door: 'mqtt', outcome: 'confirmed', le: '2' }), 0)
  t.equal(sampleValue(families, 'dispenser_booking_confirmation_ms_bucket', { door: 'mqtt', outcome: 'confirmed', le: '5' }), 1)
  t.equal(sampleValue(families, 'dispenser_booking_confirmation_ms_bucket', { door: 'http', outcome: 'refused', le: '1' }), 1)
  t.equal(sampleValue(families, 'dispenser_command_confirmation_ms_bucket', { status: 'active', le: '10' }), 0)
  t.equal(sampleValue(families, 'dispenser_command_confirmation_ms_bucket', { status: 'active', le: '25' }), 1)
  // and after the load, straight into them
  events.emit('command.confirmed', { command: control('idle'), confirmation: { success: true, exchange_id: 2 }, latencyMs: 6000 })
  const after = await scrape(metrics)
  t.equal(sampleValue(after, 'dispenser_command_confirmation_ms_bucket', { status: 'idle', le: '5000' }), 0)
  t.equal(sampleValue(after, 'dispenser_command_confirmation_ms_bucket', { status: 'idle', le: '10000' }), 1)
  const les = after.get('dispenser_command_confirmation_ms')!.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.status === 'idle').map((s) => s.labels.le)
  t.same(les, [...LATENCY_BUCKETS_MS.map(String), '+Inf'], 'ms buckets from 1 ms to 10 s')
  metrics.stop()
  events.emit('command.confirmed', { command: control('idle'), confirmation: { success: true, exchange_id: 3 }, latencyMs: 1 })
  t.equal(sampleValue(await scrape(metrics), 'dispenser_command_confirmation_ms_count', { status: 'idle' }), 1, 'stopped: no longer listening')
})

t.test('families are read at each scrape; one that throws leaves only itself empty', async (t) => {
  const errors: string[] = []
  const metrics = createHubMetrics({ onError: (_error, family) => errors.push(family) })
  t.teardown(() => metrics.stop())
  const counts = new Map([['rate', 2], ['acl', 1]])
  metrics.add(
    { name: 'test_dropped_total', help: 'by reason', type: 'counter', labelNames: ['reason'], read: () => [...counts].map(([reason, n]) => [{ reason }, n] as const) },
    { name: 'test_broken', help: 'throws', type: 'gauge', read: () => { throw new Error('no value') } },
    { name: 'test_broken_by', help: 'throws', type: 'gauge', labelNames: ['reason'], read: () => { throw new Error('no value') } },
  )
  let families = await scrape(metrics)
  t.equal(sampleValue(families, 'test_dropped_total', { reason: 'rate' }), 2)
  t.equal(families.get('test_dropped_total')?.type, 'counter')
  t.ok(Number.isNaN(sampleValue(families, 'test_broken')), 'the broken family says NaN, not a made-up value')
  t.same(families.get('test_broken_by')?.samples, [], 'a labelled one shows no series')
  t.same(errors, ['test_broken', 'test_broken_by'])
  counts.set('rate', 5)
  metrics.add({ name: 'test_late', help: 'added after the first scrape', type: 'gauge', read: () => 7 })
  families = await scrape(metrics)
  t.equal(sampleValue(families, 'test_dropped_total', { reason: 'rate' }), 5, 'read again')
  t.equal(sampleValue(families, 'test_late'), 7)
  t.throws(() => metrics.add({ name: 'test_late', help: 'twice', type: 'gauge', read: () => 0 }), /already been registered/, 'a name given twice is a programming error')
})

t.test('two hubs in one process each keep their own registry', async (t) => {
  const a = createHubMetrics()
  const b = createHubMetrics()
  t.teardown(() => {
    a.stop()
    b.stop()
  })
  a.add({ name: 'test_machines', help: 'same name in both', type: 'gauge', read: () => 20 })
  b.add({ name: 'test_machines', help: 'same name in both', type: 'gauge', read: () => 1000 })
  a.booking('http', 'confirmed', 1)
  const [fa, fb] = [await scrape(a), await scrape(b)]
  t.equal(sampleValue(fa, 'test_machines'), 20)
  t.equal(sampleValue(fb, 'test_machines'), 1000)
  t.equal(sampleValue(fa, 'dispenser_booking_confirmation_ms_count', { door: 'http', outcome: 'confirmed' }), 1)
  t.equal(sampleValue(fb, 'dispenser_booking_confirmation_ms_count', { door: 'http', outcome: 'confirmed' }), undefined)
  for (const f of [fa, fb]) t.ok(f.has('process_resident_memory_bytes') && f.has('nodejs_eventloop_lag_p99_seconds'), 'each shows the process collectors')
})

const turn = (ms: number) => new Promise((r) => setTimeout(r, ms))
const block = (ms: number) => {
  const end = performance.now() + ms
  while (performance.now() < end);
}

t.test('with nobody scraping, a full list of observations loads the client and none is lost', async (t) => {
  const metrics = createHubMetrics()
  t.teardown(() => metrics.stop())
  // more than the list holds, in one go: the ones past it arrive while the client is loading
  for (let i = 0; i < PENDING_MAX + 10; i++) metrics.booking('http', i % 2 ? 'confirmed' : 'refused', i % 7)
  const families = await scrape(metrics)
  const count = (outcome: string) => sampleValue(families, 'dispenser_booking_confirmation_ms_count', { door: 'http', outcome })
  t.equal(count('confirmed')! + count('refused')!, PENDING_MAX + 10)
  t.equal(count('confirmed'), (PENDING_MAX + 10) / 2)
  const sum = Array.from({ length: PENDING_MAX + 10 }, (_, i) => i % 7).reduce((a, b) => a + b, 0)
  t.equal(sampleValue(families, 'dispenser_booking_confirmation_ms_sum', { door: 'http', outcome: 'confirmed' })! + sampleValue(families, 'dispenser_booking_confirmation_ms_sum', { door: 'http', outcome: 'refused' })!, sum, 'each value kept as observed')
})

t.test("dispenser_event_loop_delay_ms is prom-client's event-loop monitor in ms, a window per scrape", async (t) => {
  const metrics = createHubMetrics()
  t.teardown(() => metrics.stop())
  await scrape(metrics) // loads the client; the window starts here
  await turn(50)
  block(200) // the loop cannot turn for 200 ms
  await turn(50)
  const stalled = await scrape(metrics)
  const ms = (name: string) => Math.round(sampleValue(stalled, name)! * 1e5) / 100
  const max = sampleValue(stalled, 'dispenser_event_loop_delay_ms', { quantile: '1' })!
  t.ok(max >= 150, `a 200 ms stall is seen (max ${max} ms)`)
  t.same(
    ['0.5', '0.99', '1'].map((quantile) => sampleValue(stalled, 'dispenser_event_loop_delay_ms', { quantile })),
    ['nodejs_eventloop_lag_p50_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds'].map(ms),
    'the same readings as nodejs_eventloop_lag_*: one monitor, one window',
  )
  await turn(100)
  const calm = sampleValue(await scrape(metrics), 'dispenser_event_loop_delay_ms', { quantile: '1' })!
  t.ok(calm < max, `the next scrape's window starts afresh (max ${calm} ms)`)
})

t.test('timeBooking: ok is confirmed, a refusal refused, a throw an error (and rethrown)', async (t) => {
  const seen: Array<[string, string, number]> = []
  const meter = { booking: (door: string, outcome: string, ms: number) => void seen.push([door, outcome, ms]) }
  const started = performance.now()
  t.same(await timeBooking(meter, 'http', started, Promise.resolve({ ok: true as const, value: 1 })), { ok: true, value: 1 })
  await timeBooking(meter, 'mqtt', started, Promise.resolve({ ok: false as const }))
  await t.rejects(timeBooking(meter, 'mqtt', started, Promise.reject(new Error('disk full'))), /disk full/)
  t.same(seen.map(([door, outcome]) => [door, outcome]), [['http', 'confirmed'], ['mqtt', 'refused'], ['mqtt', 'error']])
  t.ok(seen.every(([, , ms]) => ms >= 0), 'elapsed ms')
  t.same(await timeBooking(undefined, 'http', started, Promise.resolve({ ok: true })), { ok: true }, 'no meter: just the result')
})

t.test('renderFamilies gives valid text for a module alone', async (t) => {
  const text = await renderFamilies([{ name: 'test_up', help: 'help with a \\ backslash\nand a newline', type: 'gauge', read: () => 1 }])
  const families = parsePrometheusText(text)
  t.equal(sampleValue(families, 'test_up'), 1)
  t.equal(families.get('test_up')?.help, 'help with a \\ backslash\nand a newline', 'HELP escaped and read back')
  t.match(text, '# HELP test_up help with a \\\\ backslash\\nand a newline\n', 'escaped on the wire')
})
