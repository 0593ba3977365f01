/**
 * The admin page against the whole hub (src/hub.ts) with HUB_SIMULATE=20: real broker, real
 * simulated dispensers over MQTT, real clock. A booking made on the page starts at once and the
 * bay turns active on the page when its dispenser confirms.
 */
import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/index.js'
import { createHub } from '../../src/hub.js'
import { ARTIFACTS, CHROMIUM, browserSkipReason } from './world.js'
import { clearOfBoundary, clockInOffset, zoneClearOfMidnight } from '../helpers/clear-of-midnight.js'

// Page-side function (not a string: the pages' CSP forbids eval); no DOM types in the test tsconfig.
declare const document: { querySelectorAll(selector: string): { length: number } }

const skip = browserSkipReason()
if (skip) t.comment(skip)

t.test('admin page on the full hub with 20 simulated dispensers', { skip: skip ?? false }, async (t) => {
  // Real clock: the page books today's current slot, so the venue's day must not turn over
  // between the snapshot (sign-in) and the booking; with HUB_TIMEZONE UTC it did within a minute
  // before 00:00 UTC.
  const venue = zoneClearOfMidnight()
  const config = loadConfig({
    HUB_DATA_DIR: t.testdir(), HUB_MQTT_PORT: '0', HUB_HTTP_PORT: '0', HUB_MACHINES: '1-20', HUB_SIMULATE: '20',
    HUB_TIMEZONE: venue.timeZone, HUB_LOG_LEVEL: 'silent', HUB_ADMIN_TOKEN: 'admin-token-for-browser-test-0123',
  })
  const hub = await createHub({ config, log: pino({ level: 'silent' }) })
  t.teardown(() => hub.close())
  const profile = mkdtempSync(join(tmpdir(), 'dispenser-hub-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1440, height: 900 },
  })
  t.teardown(async () => {
    await context.close()
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
  })
  const errors: string[] = []
  const page = await context.newPage()
  page.on('pageerror', (e) => errors.push(e.message))

  await page.goto(`http://127.0.0.1:${hub.ports.http}/`)
  await page.fill('#token', 'admin-token-for-browser-test-0123')
  await page.click('#signin-form button')
  await page.waitForSelector('#live.live')
  // Simulated dispensers connect over real MQTT: wait (generously) until all 20 show online.
  await page.waitForFunction(() => document.querySelectorAll('.bay-card .dot.on').length === 20, undefined, { timeout: 30_000 })
  t.equal(await page.locator('.bay-card').count(), 20, '20 simulated bays, all online')

  // Book bay 3 for the current slot: a start less than one slot in the past means now (DESIGN §4).
  // Not in the last 20 s of a slot: the slot computed here must still be current when the hub
  // checks the booking (at xx:04:59.8 it was more than one slot in the past by then).
  const slot = Math.floor((await clearOfBoundary(300_000, 20_000)) / 300_000) * 300_000
  const hhmm = clockInOffset(slot, venue.offsetHours)
  await page.click('#new-booking')
  await page.fill('#dlg-book [name=bays]', '3')
  await page.fill('#dlg-book [name=start]', hhmm)
  await page.selectOption('#dlg-book [name=minutes]', '30')
  await page.click('#dlg-book button.primary')
  await page.waitForSelector('.bay-card[data-bay="3"].s-active', { timeout: 30_000 })
  t.pass('bay 3 turned active on the page when its dispenser confirmed')
  t.equal(hub.machines.get(3)?.status, 'active')
  await page.waitForSelector('#link li')
  t.match(await page.locator('#link').innerText(), /Reservations\s+off[\s\S]*Event uplink\s+off[\s\S]*Bridge\s+off/, 'cloud link parts shown (all off here)')
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, 'admin-full-hub.png') })
  t.same(errors, [], 'no page errors')
})
