/**
 * Issue 15, time you can trust, in Chromium: the Pi booted after a power cut with no internet,
 * fake-hwclock restored 07:00 while it is 10:00. The admin page shows the banner; staff confirm
 * the tablet's time; the hub runs on it, and a 10:05 booking starts at 10:05 of that time.
 */
import t from 'tap'
import { join } from 'node:path'
import { ADMIN_TOKEN, auth, runFor, settle } from '../interfaces/http/world.js'
import { FakeTimeSync } from '../helpers/fake-time-sync.js'
import { ARTIFACTS, browserSkipReason, buildBrowserWorld } from './world.js'

const skip = browserSkipReason()
if (skip) t.comment(skip)

const BOOT = Date.UTC(2026, 0, 10, 7, 0, 0)
const REAL = Date.UTC(2026, 0, 10, 10, 0, 0)

t.test('clock banner: not synchronised -> staff confirm the tablet time -> bookings run on it', { skip: skip ?? false }, async (t) => {
  const timeSync = new FakeTimeSync()
  const w = await buildBrowserWorld(t, 6, {}, { timeSync, startMs: BOOT })
  const start = REAL / 1000 + 300
  const made = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('admin'), payload: { machine_id: 3, status: 'reserved', start_time: start, duration: 1800 } })
  t.equal(made.statusCode, 201, 'a 10:05 booking made while the hub thinks it is 07:00')

  const errors: string[] = []
  const page = await w.page(errors)
  await page.clock.setFixedTime(new Date(REAL)) // the tablet's own clock is right
  await page.goto(`${w.base}/`)
  await page.fill('#token', ADMIN_TOKEN)
  await page.click('#signin-form button')
  const banner = page.locator('#clock-banner.untrusted')
  await banner.waitFor()
  t.match(await banner.textContent(), /not synchronised[\s\S]*Hub time 07:00[\s\S]*this tablet 10:00/, 'the banner says so and shows both times')
  await page.screenshot({ path: join(ARTIFACTS, 'admin-clock-untrusted.png') })

  await page.click('#clock-confirm')
  await page.locator('#clock-banner.confirmed').waitFor()
  t.match(await page.locator('#clock-banner').textContent(), /confirmed by admin_portal at 10:00 \(\+3 h 0 min/, 'the banner says whose time the hub runs on')
  await page.screenshot({ path: join(ARTIFACTS, 'admin-clock-confirmed.png') })
  const health = (await w.app.inject({ url: '/api/health' })).json()
  t.match(health.clock, { source: 'staff', trusted: true, confirmed_by: 'admin_portal' })
  t.ok(Math.abs(health.clock.offset_ms - (REAL - BOOT)) < 5000, `offset in use ${health.clock.offset_ms} ms`)

  await runFor(w, 5 * 60_000 + 5000, 5000)
  await settle(w)
  t.equal(w.scheduling.get(made.json().session_id)!.status, 'active', 'the 10:05 booking started on the confirmed time')
  await page.waitForSelector('.bay-card[data-bay="3"].s-active')
  t.pass('bay 3 shows active on the page')

  // time sync comes back: the banner goes
  timeSync.sync()
  await w.timekeeping!.check()
  await page.locator('#clock-banner').waitFor({ state: 'hidden' })
  t.pass('the banner is gone once the system clock is synchronised')
  t.same(errors, [], 'no page errors')
})
