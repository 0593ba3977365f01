/**
 * The Reports panel in Chromium (issue 13): a viewer signs in, sees the heat-map of last week with
 * its table alternative and the per-day totals, and downloads sessions.csv, which csv-parse reads
 * back as the stored sessions.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'csv-parse/sync'
import { browserSkipReason, buildBrowserWorld } from './world.js'

const skip = browserSkipReason()
if (skip) t.comment(skip)

const H = 3600
const SAT = Date.UTC(2026, 0, 10) / 1000 // the world starts Saturday 2026-01-10 10:00 UTC

t.test('a viewer reads the heat-map, its table, the daily totals, and downloads sessions.csv', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t, 8)
  const admin = { origin: 'admin_portal', isAdmin: true, actor: { kind: 'staff' as const, name: 'Zoë, "front desk"' } }
  t.ok((await w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: SAT + 10.5 * H, duration: H }, admin)).ok)
  t.ok((await w.scheduling.submit({ machine_id: [2, 3], status: 'reserved', start_time: SAT + 12 * H, duration: 2 * H }, admin)).ok)
  await w.clock.jump(w.clock.now() + 7 * 86_400_000) // a week later: last week holds them
  await w.staff.change({ kind: 'add', username: 'vic', role: 'viewer', password: 'password-vic' }, 'node:cli')

  const errors: string[] = []
  const page = await w.page(errors)
  await page.goto(`${w.base}/`)
  await page.fill('#username', 'vic')
  await page.fill('#password', 'password-vic')
  await page.click('#login-form button')
  await page.waitForSelector('#live.live')
  await page.waitForSelector('#reports-panel:not([hidden])')
  await page.selectOption('#reports-weeks', '1')
  await page.waitForSelector('#reports-heat-caption:text("2026-01-10 to 2026-01-16")')
  t.equal(await page.locator('#reports-heatmap .rh-cell').count(), 20 * 168, 'a cell per bay and hour of the week')
  const sat = (hour: number) => 5 * 24 + hour
  const cell = (bay: number, hour: number) => page.locator(`#reports-heatmap .rh-cell >> nth=${(bay - 1) * 168 + sat(hour)}`).getAttribute('style')
  t.equal(await cell(1, 10), '--v:0.5')
  t.equal(await cell(2, 12), '--v:1')
  t.equal(await cell(1, 12), '--v:0')
  t.equal(await page.getAttribute('#reports-heatmap', 'aria-hidden'), 'true', 'the colours are a picture; the table carries the figures')

  await page.click('.reports-alt summary')
  await page.selectOption('#reports-bay', '2')
  await page.waitForSelector('#reports-heat-table caption:text("bay 2")')
  const row12 = await page.locator('#reports-heat-table tbody tr >> nth=12').innerText()
  t.match(row12.split('\t'), ['12:00', '0%', '0%', '0%', '0%', '0%', '100%', '0%'], 'Saturday 12:00 sold in full on bay 2')
  t.equal(await page.locator('#reports-heat-table th[scope=col]').count(), 8, 'headed columns')

  await page.fill('#reports-from', '2026-01-10')
  await page.fill('#reports-to', '2026-01-11')
  await page.click('#reports-form button[type=submit]')
  await page.waitForSelector('#reports-daily caption:text("2026-01-10 to 2026-01-11")')
  const first = (await page.locator('#reports-daily tbody tr >> nth=0').innerText()).split('\t')
  t.same(first, ['2026-01-10', '2', '5', '0', '1%', '—'], 'sessions 2, 1 + 2x2 bay hours sold of 480, takings blank until payments')
  t.match((await page.locator('#reports-daily tfoot tr').innerText()).split('\t'), ['Total', '2', '5'])

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#reports-panel a[data-export="sessions"]')])
  t.equal(download.suggestedFilename(), 'sessions_2026-01-10_2026-01-11.csv')
  const rows = parse(readFileSync((await download.path())!), { bom: true, columns: true }) as Array<Record<string, string>>
  t.same(rows.map((r) => [r.session_id, r.bays, r.booked_by, r.start]), [
    ['1', '1', 'staff:Zoë, "front desk"', '2026-01-10 10:30'],
    ['2', '2,3', 'staff:Zoë, "front desk"', '2026-01-10 12:00'],
  ])
  t.same(errors, [], 'no page errors')
})
