/**
 * /metrics on a whole hub (real broker on port 0, real LevelDB, FakeClock): the booking histogram
 * moves for bookings over HTTP and over MQTT, confirmed and refused, and the command histogram
 * when real MQTT dispensers confirm their controls. Read through a strict Prometheus text parser.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { nextMessage, startTestHub, waitFor } from '../helpers/hub.js'
import { parsePrometheusText, sampleValue, type Family } from '../helpers/prometheus-text.js'

t.test('booking and command confirmation histograms on a live hub', async (t) => {
  const { hub, clock, node, simulate, api } = await startTestHub(t)
  const scrape = async (): Promise<Map<string, Family>> => {
    const res = await fetch(`http://127.0.0.1:${hub.ports.http}/metrics`, { headers: { authorization: `Bearer ${hub.adminToken}` } })
    t.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    return parsePrometheusText(await res.text())
  }
  const count = (f: Map<string, Family>, name: string, labels: Record<string, string>) => sampleValue(f, `${name}_count`, labels) ?? 0
  const bookings = (f: Map<string, Family>, door: string, outcome: string) => count(f, 'dispenser_booking_confirmation_ms', { door, outcome })
  const commands = (f: Map<string, Family>, status: string) => count(f, 'dispenser_command_confirmation_ms', { status })

  const before = await scrape()
  t.equal(bookings(before, 'http', 'confirmed') + bookings(before, 'mqtt', 'confirmed'), 0, 'nothing booked yet')
  t.ok(before.has('process_resident_memory_bytes') && before.has('nodejs_eventloop_lag_seconds'), 'process collectors')
  t.ok(before.has('dispenser_mqtt_refused_connections_total') && before.has('hub_link_backlog') && before.has('hub_clock_trusted'), 'broker, link and clock families')

  await simulate([3, 4])
  await waitFor(() => hub.machines.stats().online === 2, 10_000, 'dispensers online')
  // on connect each dispenser is brought to idle, and confirms it over MQTT
  await waitFor(() => hub.machines.stats().commandsConfirmed >= 2, 10_000, 'idle confirmed')
  t.equal(commands(await scrape(), 'idle'), hub.machines.stats().commandsConfirmed, 'each idle confirmation timed')

  const start = Math.floor(clock.nowSeconds()) + 600
  const http = await api('kiosk_interface', 'POST', '/api/sessions', { machine_id: 3, status: 'reserved', start_time: start, duration: 1800 })
  t.equal(http.status, 201)
  const refusedHttp = await api('kiosk_interface', 'POST', '/api/sessions', { machine_id: 3, status: 'reserved', start_time: start, duration: 600 })
  t.equal(refusedHttp.status, 409, 'a conflicting booking over HTTP')

  const kiosk = await node('kiosk_interface')
  await kiosk.subscribeAsync('internal/kiosk', { qos: 1 })
  const book = async (exchangeId: number, machineId: number) => {
    const reply = nextMessage(kiosk, 'internal/kiosk', (m) => m.exchange_id === exchangeId)
    await kiosk.publishAsync('internal/manager', JSON.stringify({ machine_id: machineId, status: 'reserved', start_time: start, duration: 1800, origin_node: 'kiosk_interface', exchange_id: exchangeId }), { qos: 1 })
    return reply
  }
  t.match(await book(71, 4), { success: true })
  t.match(await book(72, 3), { success: false }, 'a conflicting booking over MQTT')

  const booked = await scrape()
  t.equal(bookings(booked, 'http', 'confirmed'), 1)
  t.equal(bookings(booked, 'http', 'refused'), 1)
  t.equal(bookings(booked, 'mqtt', 'confirmed'), 1)
  t.equal(bookings(booked, 'mqtt', 'refused'), 1)
  const sum = sampleValue(booked, 'dispenser_booking_confirmation_ms_sum', { door: 'mqtt', outcome: 'confirmed' })!
  t.ok(sum > 0, `the MQTT booking took ${sum.toFixed(2)} ms from receipt to answer (a durable write)`)
  t.equal(sampleValue(booked, 'dispenser_booking_confirmation_ms_bucket', { door: 'http', outcome: 'confirmed', le: '+Inf' }), 1)

  // the sessions start: both dispensers are switched on and confirm over MQTT
  const activeBefore = commands(booked, 'active')
  await clock.advance(600_000)
  await waitFor(() => hub.machines.get(3)?.status === 'active' && hub.machines.get(4)?.status === 'active', 10_000, 'bays active')
  // a machine shows active once its Confirmation is handled, and that is when it is timed
  const started = await scrape()
  t.equal(commands(started, 'active'), activeBefore + 2, 'one timed confirmation per dispenser switched on')
  t.equal(sampleValue(started, 'dispenser_commands_confirmed_total'), hub.machines.stats().commandsConfirmed, 'the counter agrees with the histogram source')
  t.equal(sampleValue(started, 'dispenser_sessions_today', { status: 'active' }), 2)

  // README "Metrics" names every family the hub itself exposes
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('## Metrics'), readme.indexOf('\n## ', readme.indexOf('## Metrics') + 5))
  const own = [...started.keys()].filter((name) => !/^(process|nodejs)_/.test(name))
  t.ok(own.length >= 20, `${own.length} hub families`)
  for (const name of own) t.match(section, `\`${name}`, `README documents ${name}`)
})
