/**
 * Reports over HTTP (issue 13): the CSV exports read back by a real CSV parser equal the stored
 * data (quotes, commas, newlines, non-ASCII), archived sessions included; the heat-map and the
 * daily totals give the figures of a known week; bad dates are refused naming the field.
 */
import t from 'tap'
import { parse } from 'csv-parse/sync'
import type { SessionRecord } from '../../../src/protocol/messages.js'
import { auth, buildWorld, runFor, type World } from './world.js'

const H = 3600
// The world's clock starts Saturday 2026-01-10 10:00 UTC (HUB_TIMEZONE=UTC).
const SAT = Date.UTC(2026, 0, 10) / 1000

const NAMES = ['Zoë "Ace" Müller, Jr.', 'line\nbreak\r\nand CR\r', '北京 golf 🏌️', '=HYPERLINK("http://x")', 'plain']

async function csv(w: World, url: string, as: 'admin' | 'kiosk' = 'admin') {
  const res = await w.app.inject({ method: 'GET', url, headers: auth(as) })
  return { res, rows: res.statusCode === 200 ? (parse(res.rawPayload, { bom: true, columns: true }) as Array<Record<string, string>>) : [] }
}

t.test('sessions.csv parsed back by csv-parse equals the sessions, archived ones included', async (t) => {
  const w = await buildWorld(t, { env: { HUB_ARCHIVE_AFTER_DAYS: '1' } })
  // Names reach a session through the module's own doors: the booking actor and the upstream id.
  for (const [i, name] of NAMES.entries()) {
    const r = await w.scheduling.submit(
      { machine_id: i % 2 === 0 ? [2 * i + 1] : [2 * i + 1, 2 * i + 2], status: 'reserved', start_time: SAT + 11 * H + i * 600, duration: 1800 + i * 300 },
      { origin: 'reservation_interface', externalId: `${name}#${i}`, actor: { kind: 'staff', name } },
    )
    t.ok(r.ok, `booked ${JSON.stringify(name)} ${r.ok ? '' : r.message}`)
  }
  await w.scheduling.cancel(2, { origin: 'admin_portal', isAdmin: true })
  // Let them all play out, then archive them (ended more than a day ago).
  await runFor(w, 4 * H * 1000, 60_000)
  await w.clock.jump(w.clock.now() + 3 * 86_400_000)
  t.equal(await w.scheduling.archiveNow(), NAMES.length, 'all archived')
  // and booking details through the HTTP door: the customer's name and notes as typed at the counter
  const withDetails = await w.app.inject({
    method: 'POST', url: '/api/sessions', headers: auth('admin'),
    payload: {
      machine_id: 12, status: 'reserved', start_time: w.clock.now() / 1000 + 1200, duration: 1800, force: true,
      details: { customer_name: 'Zoë "Ace" Müller, Jr. 北京', phone: '+44 20 7946 0958', email: 'zoë@example.com', notes: 'left-handed, "bring tees"\r\nsecond line\nthird, last' },
    },
  })
  t.equal(withDetails.statusCode, 201, withDetails.body)
  const live = await w.scheduling.submit({ machine_id: 9, status: 'reserved', start_time: w.clock.now() / 1000 + 600, duration: H, force: true }, { origin: 'admin_portal', isAdmin: true })
  t.ok(live.ok, live.ok ? '' : live.message)
  const expected: SessionRecord[] = []
  for (let id = 1; id <= NAMES.length + 2; id++) expected.push((await w.scheduling.find(id))!)
  expected.sort((a, b) => a.start_time - b.start_time || a.session_id - b.session_id) // the export's order

  const { res, rows } = await csv(w, '/api/export/sessions.csv?from=2026-01-01&to=2026-01-31')
  t.equal(res.statusCode, 200, res.statusCode === 200 ? '' : res.body)
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8')
  t.equal(res.headers['content-disposition'], 'attachment; filename="sessions_2026-01-01_2026-01-31.csv"')
  t.equal(res.headers['cache-control'], 'no-store')
  t.same([...res.rawPayload.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'starts with the UTF-8 BOM')
  t.equal(rows.length, expected.length, 'one row per session, archived and live')
  const guard = (s: string | undefined) => (s !== undefined && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s ?? '')
  for (const [i, s] of expected.entries()) {
    const row = rows[i]!
    t.same(
      { id: row.session_id, status: row.status, bays: row.bays, booked_by: row.booked_by, external_id: row.external_id, minutes: row.minutes, name: row.customer_name, phone: row.phone, email: row.email, notes: row.notes },
      {
        id: String(s.session_id), status: s.status, bays: s.machine_id.join(','), booked_by: guard(s.booked_by), external_id: guard(s.external_id), minutes: String(s.duration / 60),
        name: s.details?.customer_name ?? '', phone: guard(s.details?.phone), email: s.details?.email ?? '', notes: s.details?.notes ?? '',
      },
      `row ${i + 1} equals session ${s.session_id}`,
    )
  }
  t.equal(rows[0]!.booked_by, `staff:${NAMES[0]}`, 'quotes and commas survive')
  t.equal(rows[1]!.status, 'cancelled')
  t.equal(rows[3]!.external_id, `'${NAMES[3]}#3`, 'a would-be formula is text')
  t.equal(rows[0]!.start, '2026-01-10 11:00', 'local time')
  t.equal(rows[0]!.price_minor, '', 'no price until payments exist')
  const detailed = rows.find((r) => r.session_id === String(NAMES.length + 1))!
  t.equal(detailed.customer_name, 'Zoë "Ace" Müller, Jr. 北京', 'a non-ASCII name with quotes and a comma, as typed')
  t.equal(detailed.notes, 'left-handed, "bring tees"\r\nsecond line\nthird, last', 'notes keep their line breaks')
  t.equal(detailed.phone, "'+44 20 7946 0958", 'a phone number starting with + is text, not a formula')
})

t.test('audit.csv: entries with free text round-trip', async (t) => {
  const w = await buildWorld(t)
  const at = w.clock.now() / 1000
  await w.audit.log.append(NAMES.map((reason, i) => ({ at, actor: `staff:vic${i}`, kind: 'machine.override' as const, machine_id: [i + 1], before: { status: 'idle' }, after: { note: reason }, reason })))
  const { res, rows } = await csv(w, '/api/export/audit.csv?from=2026-01-10&to=2026-01-10')
  t.equal(res.statusCode, 200, res.body.slice(0, 200))
  t.equal(rows.length, NAMES.length)
  const byActor = new Map(rows.map((r) => [r.actor, r]))
  for (const [i, reason] of NAMES.entries()) {
    const row = byActor.get(`staff:vic${i}`)!
    t.equal(row.reason, reason.startsWith('=') ? `'${reason}` : reason, `reason ${i}`)
    t.same(JSON.parse(row.after!), { note: reason }, 'before/after as JSON text')
    t.equal(row.bays, String(i + 1))
  }
  t.equal((await csv(w, '/api/export/audit.csv?from=2026-01-11&to=2026-01-12')).rows.length, 0, 'outside the range: header only')
})

t.test('heat-map and daily totals of a known week', async (t) => {
  const w = await buildWorld(t)
  const book = async (bays: number[], startS: number, durationS: number, status: 'reserved' | 'maintenance' = 'reserved') => {
    const r = await w.scheduling.submit({ machine_id: bays, status, start_time: startS, duration: durationS }, { origin: 'admin_portal', isAdmin: true })
    t.ok(r.ok, r.ok ? '' : r.message)
    return r
  }
  await book([1], SAT + 10.5 * H, H) // Sat 10:30-11:30: half of 10h, half of 11h
  await book([2, 3], SAT + 12 * H, 1.5 * H) // a group: each bay sold 1.5 h
  await book([4], SAT + 14 * H, H, 'maintenance') // blocked, not sold
  const cancelled = await book([5], SAT + 15 * H, H)
  if (cancelled.ok) await w.scheduling.cancel(cancelled.value.session.session_id, { origin: 'admin_portal', isAdmin: true })
  await book([6], SAT + 23.5 * H, H) // runs past midnight into Sunday

  const daily = await w.app.inject({ method: 'GET', url: '/api/reports/daily?from=2026-01-10&to=2026-01-11', headers: auth('admin') })
  t.equal(daily.statusCode, 200, daily.body)
  const d = daily.json()
  t.equal(d.bays, 20)
  t.same(d.days[0], { date: '2026-01-10', sessions: 3, hours_sold: 4.5, hours_blocked: 1, hours_open: 480, utilization: Math.round((4.5 / 480) * 1e4) / 1e4, takings_minor: null })
  t.same(d.days[1], { date: '2026-01-11', sessions: 0, hours_sold: 0.5, hours_blocked: 0, hours_open: 480, utilization: 0.001, takings_minor: null }, "Sunday gets the half hour after midnight")
  t.equal(d.totals.hours_sold, 5)
  t.equal(d.totals.sessions, 3)

  const util = await csv(w, '/api/export/utilization.csv?from=2026-01-10&to=2026-01-10')
  t.equal(util.rows.length, 20, 'one row per bay for the day')
  t.same(util.rows[1], { date: '2026-01-10', bay: '2', sessions: '1', hours_sold: '1.5', hours_blocked: '0', hours_open: '24', utilization_pct: '6.3' })
  t.equal(util.rows[3]!.hours_blocked, '1')

  await w.clock.jump(w.clock.now() + 7 * 86_400_000) // today: Saturday 2026-01-17
  const res = await w.app.inject({ method: 'GET', url: '/api/reports/heatmap?weeks=1', headers: auth('admin') })
  t.equal(res.statusCode, 200, res.body)
  const map = res.json()
  t.equal(map.from_date, '2026-01-10')
  t.equal(map.to_date, '2026-01-16', 'full days, today excluded')
  t.equal(map.utilization.length, 20)
  t.equal(map.utilization[0].length, 168)
  const sat = (hour: number) => 5 * 24 + hour // Monday-first: Saturday is day 5
  t.equal(map.utilization[0][sat(10)], 0.5)
  t.equal(map.utilization[0][sat(11)], 0.5)
  t.equal(map.utilization[1][sat(12)], 1)
  t.equal(map.utilization[2][sat(13)], 0.5)
  t.equal(map.utilization[3][sat(14)], 0, 'maintenance is not sold')
  t.equal(map.utilization[4][sat(15)], 0, 'cancelled is not sold')
  t.equal(map.utilization[5][sat(23)], 0.5)
  t.equal(map.utilization[5][6 * 24], 0.5, 'Sunday 00:00')
  t.same(map.hours_sold.slice(0, 6), [1, 1.5, 1.5, 0, 0, 1])
  const total = map.utilization.flat().reduce((a: number, b: number) => a + b, 0)
  t.equal(total, 0.5 + 0.5 + 1 + 0.5 + 1 + 0.5 + 0.5 + 0.5, 'nothing else anywhere')
})

t.test('dates are checked and the range bounded; errors name the field', async (t) => {
  const w = await buildWorld(t)
  const cases: Array<[string, RegExp]> = [
    ['/api/export/sessions.csv?from=2026-02-30', /^from: "2026-02-30" is not a date/],
    ['/api/export/sessions.csv?from=yesterday', /^from: /],
    ['/api/export/audit.csv?to=2026-13-01', /^to: /],
    ['/api/export/utilization.csv?from=2026-01-10&to=2026-01-01', /^to: 2026-01-01 is before from/],
    ['/api/export/sessions.csv?from=2024-01-01&to=2026-01-01', /^to: the range covers 732 days; at most 366/],
    ['/api/reports/daily?from=1999-12-31&to=2000-01-01', /^from: must lie between 2000 and 2100/],
    ['/api/export/sessions.csv?colour=red', /colour/],
    ['/api/reports/heatmap?weeks=0', /weeks/],
    ['/api/reports/heatmap?weeks=53', /weeks/],
    ['/api/reports/daily?from=' + 'x'.repeat(100), /from/],
  ]
  for (const [url, message] of cases) {
    const res = await w.app.inject({ method: 'GET', url, headers: auth('admin') })
    t.equal(res.statusCode, 400, url)
    t.match(res.json().message, message, `${url}: ${res.json().message}`)
  }
  const ok = await w.app.inject({ method: 'GET', url: '/api/reports/daily', headers: auth('admin') })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().days.length, 30, 'default: the 30 days up to today')
  t.equal(ok.json().to_date, '2026-01-10')
  t.equal((await w.app.inject({ method: 'GET', url: '/api/export/sessions.csv', headers: auth('kiosk') })).statusCode, 403, 'kiosks export nothing')
})
