/**
 * The admin and kiosk pages in Chromium against a live hub (FakeClock: the test moves hub time).
 * Screenshots go to test-artifacts/ (gitignored).
 */
import t from 'tap'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { ADMIN_TOKEN, disconnectMachine, runFor, settle } from '../interfaces/http/world.js'
import { ARTIFACTS, browserSkipReason, buildBrowserWorld } from './world.js'

// Page-side functions below run in Chromium (as functions, not strings: the pages' CSP forbids
// eval); the test tsconfig has no DOM types, so declare the little they touch.
interface PageElement {
  open?: boolean
  textContent: string | null
  scrollTop: number
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): { length: number } }
declare const localStorage: { getItem(key: string): string | null }
declare function getComputedStyle(element: PageElement | null): { getPropertyValue(name: string): string }

const skip = browserSkipReason()
if (skip) t.comment(skip)

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false })
}

t.test('admin: sign in, 20 bays, book on the grid, bay turns active live, maintenance', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t)
  const errors: string[] = []
  const page = await w.page(errors)
  await page.goto(`${w.base}/`)
  await page.fill('#token', 'wrong-token-123')
  await page.click('#signin-form button')
  await page.waitForSelector('#signin-error:text("not valid")')
  t.match(errors, [/401/], 'the refused token was a 401')
  errors.length = 0
  await page.fill('#token', ADMIN_TOKEN)
  await page.click('#signin-form button')
  await page.waitForSelector('#live.live')
  await page.waitForSelector('.sched .col')
  t.equal(await page.locator('.bay-card').count(), 20, '20 bays shown')
  t.equal(await page.locator('.bay-card.s-idle').count(), 20, 'all online and idle')
  t.equal(await page.locator('.sched .col').count(), 20, '20 grid columns')
  await shot(page, 'admin-signed-in')

  // Drag on bay 5 from 10:05 to 10:30 (hub time starts at 10:00 UTC).
  const slotH = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.sched')).getPropertyValue('--slot-h')))
  await page.evaluate((y) => (document.querySelector('#grid')!.scrollTop = y), 115 * slotH)
  const col = (await page.locator('.col[data-bay="5"]').boundingBox())!
  const rowY = (row: number) => col.y + row * slotH + slotH / 2
  await page.mouse.move(col.x + col.width / 2, rowY(121))
  await page.mouse.down()
  await page.mouse.move(col.x + col.width / 2, rowY(124), { steps: 4 })
  await page.mouse.move(col.x + col.width / 2, rowY(126), { steps: 4 })
  await page.mouse.up()
  await page.waitForSelector('#dlg-book[open]')
  t.equal(await page.inputValue('#dlg-book [name=bays]'), '5')
  t.equal(await page.inputValue('#dlg-book [name=start]'), '10:05')
  t.equal(await page.inputValue('#dlg-book [name=minutes]'), '30')
  await shot(page, 'admin-book-dialog')
  await page.click('#dlg-book button.primary')
  await page.waitForSelector('.sched .block.reserved')
  const sessions = w.scheduling.list()
  t.match(sessions, [{ machine_id: [5], start_time: Date.UTC(2026, 0, 10, 10, 5) / 1000, duration: 1800, origin_node: 'admin_portal' }])

  // Five minutes of hub time: the session starts, the dispenser confirms, the page shows it live.
  await runFor(w, 5 * 60_000, 60_000)
  await settle(w)
  await page.waitForSelector('.bay-card[data-bay="5"].s-active')
  await page.waitForSelector('.sched .block.active')
  t.pass('bay 5 turned active on the page without a reload')

  await page.click('.bay-card[data-bay="7"]')
  await page.waitForSelector('#dlg-bay[open]')
  await page.click('#dlg-bay button[value=maintenance]')
  await page.waitForFunction(() => !document.querySelector('#dlg-bay')?.open)
  await settle(w)
  await page.waitForSelector('.bay-card[data-bay="7"].s-maintenance')
  t.equal(w.machines.get(7)?.status, 'maintenance')
  await shot(page, 'admin-live')

  // Extend the running session from its block, then acknowledge the low-balls alert.
  await page.click('.sched .block.active')
  await page.waitForSelector('#dlg-session[open]')
  await shot(page, 'admin-session-dialog')
  await page.click('#dlg-session button[value="extend:15"]')
  await page.waitForFunction(() => !document.querySelector('#dlg-session')?.open)
  t.equal(w.scheduling.list()[0]?.duration, 45 * 60, 'extended by 15 minutes')
  await page.click('#alerts [data-ack]')
  await page.waitForSelector('#alerts li.acked')
  t.equal(await page.textContent('#alert-count'), '', 'no open alerts left')

  // Book from the toolbar and cancel it again (two taps).
  await page.click('#new-booking')
  await page.fill('#dlg-book [name=bays]', '11-12')
  await page.fill('#dlg-book [name=start]', '12:00')
  await page.click('#dlg-book button.primary')
  await page.waitForSelector('.sched .block.reserved')
  const group = w.scheduling.list().find((s) => s.machine_id.length === 2)
  t.match(group, { machine_id: [11, 12], start_time: Date.UTC(2026, 0, 10, 12) / 1000, status: 'reserved' })
  await page.click('.sched .block.reserved >> nth=0')
  await page.click('#dlg-session button[value=cancel-session]')
  await page.click('#dlg-session button[value=cancel-session]')
  await page.waitForFunction(() => !document.querySelector('.sched .block.reserved'))
  t.equal(w.scheduling.get(group!.session_id)?.status, 'cancelled', 'cancelled from the page')

  await page.setViewportSize({ width: 1024, height: 768 })
  await shot(page, 'admin-tablet')
  t.same(errors, [], 'no page errors')
})

t.test('admin on a touch tablet: a tap on free time marks the start, "Book 60 min here" opens a one-hour booking there', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t, 20, { touch: true })
  const errors: string[] = []
  const page = await w.page(errors)
  await page.goto(`${w.base}/`)
  await page.fill('#token', ADMIN_TOKEN)
  await page.tap('#signin-form button')
  await page.waitForSelector('.sched .col')
  const slotH = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.sched')).getPropertyValue('--slot-h')))
  await page.evaluate((y) => (document.querySelector('#grid')!.scrollTop = y), 130 * slotH)
  await page.locator('.col[data-bay="8"]').scrollIntoViewIfNeeded()
  await page.evaluate((y) => (document.querySelector('#grid')!.scrollTop = y), 130 * slotH)
  const col = (await page.locator('.col[data-bay="8"]').boundingBox())!
  await page.touchscreen.tap(col.x + col.width / 2, col.y + 132 * slotH + slotH / 2) // 11:00
  await page.waitForSelector('#grid-status:text("Selected Bay 8, 11:00–11:05")')
  await page.tap('#grid-book-hour')
  await page.waitForSelector('#dlg-book[open]')
  t.equal(await page.inputValue('#dlg-book [name=bays]'), '8')
  t.equal(await page.inputValue('#dlg-book [name=start]'), '11:00')
  t.equal(await page.inputValue('#dlg-book [name=minutes]'), '60')
  await page.tap('#dlg-book button.primary')
  await page.waitForSelector('.sched .block.reserved')
  t.match(w.scheduling.list(), [{ machine_id: [8], start_time: Date.UTC(2026, 0, 10, 11) / 1000, duration: 3600 }])
  await shot(page, 'admin-touch-booked')
  t.same(errors, [], 'no page errors')
})

t.test('kiosk: token from the URL, choose, pick, confirm, countdown', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t)
  const errors: string[] = []
  const page = await w.page(errors)
  await page.setViewportSize({ width: 1080, height: 1400 })
  await page.goto(`${w.base}/kiosk?token=kiosk-token-1`)
  await page.waitForSelector('#step-choose:not([hidden])')
  t.equal(new URL(page.url()).search, '', 'token removed from the address bar')
  t.equal(await page.evaluate(() => localStorage.getItem('dispenser-hub.kiosk-token')), 'kiosk-token-1', 'kept on the device')
  await page.click('[data-bays="2"]')
  await page.click('[data-minutes="90"]')
  await shot(page, 'kiosk-choose')
  await page.click('#find')
  await page.waitForSelector('#step-options:not([hidden]) .option')
  await shot(page, 'kiosk-options')
  await page.click('.option >> nth=0')
  await page.waitForSelector('#step-confirm:not([hidden])')
  // no price table on this hub: nothing to pay, so no payment note and no hold (issue 12)
  t.equal(await page.textContent('#pay-note'), '', 'no payment note for an unpriced booking')
  const booking = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/sessions'))
  await page.click('#confirm')
  await page.waitForSelector('#step-done:not([hidden])')
  t.match((await booking).headers()['idempotency-key'], /^[0-9a-f]{32}$/, 'the booking carries an Idempotency-Key (safe retry)')
  const numbers = await page.locator('#bay-numbers span').allTextContents()
  t.equal(numbers.length, 2, 'two bay numbers shown')
  const session = w.scheduling.list()[0]
  t.same(numbers.map(Number), session?.machine_id, 'the bays the hub assigned')
  t.equal(session?.origin_node, 'kiosk_interface')
  await page.waitForFunction(() => /^\d+:\d{2}(:\d{2})?$/.test(document.querySelector('#countdown')?.textContent ?? ''))
  const first = await page.textContent('#countdown')
  t.match(first, /^1:(29|30):\d{2}$/, 'about 90 minutes left')
  await page.waitForFunction((before) => document.querySelector('#countdown')?.textContent !== before, first, { timeout: 5000 })
  t.pass('the countdown ticks')
  await shot(page, 'kiosk-done')

  // Reload: the token stays on the device.
  await page.goto(`${w.base}/kiosk`)
  await page.waitForSelector('#step-choose:not([hidden])')
  t.same(errors, [], 'no page errors')
})

t.test('admin: a busy day renders groups, maintenance, offline and failed bays', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t)
  const at = (h: number, m = 0) => Date.UTC(2026, 0, 10, h, m) / 1000
  const admin = { origin: 'admin_portal', isAdmin: true }
  const kiosk = { origin: 'kiosk_interface' }
  const submit = async (machine_id: number[], start: number, minutes: number, options = kiosk, status: 'reserved' | 'maintenance' = 'reserved') =>
    t.ok((await w.scheduling.submit({ machine_id, status, start_time: start, duration: minutes * 60 }, options)).ok)
  await submit([1, 2, 3], at(10), 90)
  await submit([6], at(10), 30)
  await submit([8, 9], at(11), 60)
  await submit([12], at(10), 240, admin, 'maintenance')
  await submit([14], at(13), 45)
  w.broker.mute.add(4) // bay 4 never confirms: error after the retries
  await submit([4], at(10), 60)
  await disconnectMachine(w, 17)
  await runFor(w, 20_000, 1000)
  await settle(w)
  t.equal(w.machines.get(4)?.status, 'error')

  const page = await w.page([])
  await page.goto(`${w.base}/`)
  await page.fill('#token', ADMIN_TOKEN)
  await page.click('#signin-form button')
  await page.waitForSelector('.sched .block')
  t.equal(await page.locator('.bay-card.s-offline').count(), 1, 'bay 17 offline')
  t.equal(await page.locator('.bay-card.s-error').count(), 1, 'bay 4 in error')
  t.equal(await page.locator('.bay-card.s-active').count(), 4, 'bays 1-3 and 6 active')
  t.equal(await page.locator('.bay-card.s-maintenance').count(), 1, 'bay 12 blocked')
  t.equal(await page.locator('.sched .block').count(), 6, 'one block per contiguous group')
  t.equal(await page.locator('.sched .block.maintenance').count(), 1)
  t.ok(Number(await page.textContent('#alert-count')) >= 2, 'offline and failed-command alerts')
  await shot(page, 'admin-busy-day')
})

t.test('kiosk: bays taken between the options and the confirm are refused and options refreshed', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t, 4)
  const errors: string[] = []
  const page = await w.page(errors)
  await page.goto(`${w.base}/kiosk?token=kiosk-token-2`)
  await page.click('[data-bays="1"]')
  await page.click('[data-minutes="30"]')
  await page.click('#find')
  await page.waitForSelector('#step-options:not([hidden]) .option')
  t.equal(await page.textContent('.option >> nth=0 >> strong'), 'Bay 1')
  await page.click('.option >> nth=0')
  // Someone else books bay 1 over another door first.
  const now = w.clock.now() / 1000
  t.ok((await w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: now, duration: 1800 }, { origin: 'reservation_interface' })).ok)
  await page.click('#confirm')
  await page.waitForSelector('#step-options:not([hidden]) #options-note:text("just taken")')
  await page.waitForFunction(() => document.querySelector('.option strong')?.textContent === 'Bay 2')
  t.pass('options refreshed without bay 1')
  t.equal(w.scheduling.list().length, 1, 'no double booking')
  t.match(errors, [/409/], 'only the refused POST')
})

t.test('kiosk without a token explains the set-up', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t, 0)
  const page = await w.page([])
  await page.goto(`${w.base}/kiosk`)
  await page.waitForSelector('#setup:not([hidden])')
  t.match(await page.textContent('#setup'), /kiosk\?token=/)
})

t.test('/docs (swagger-ui) renders under the security headers: no CSP violation', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t, 0)
  const errors: string[] = []
  const page = await w.page(errors)
  const response = await page.goto(`${w.base}/docs`)
  t.match(response?.headers()['content-security-policy'], /script-src 'self'/, 'the page is served with the CSP')
  await page.waitForSelector('.opblock-summary-path')
  t.ok((await page.locator('.opblock').count()) > 10, 'the operations are listed')
  t.same(errors.filter((e) => /Content Security Policy|Refused to/i.test(e)), [], 'nothing blocked by the CSP')
})
