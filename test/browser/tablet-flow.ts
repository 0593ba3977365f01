/**
 * Issue 18 in Chromium at three screens: a desktop (1366x768), the counter tablet (1024x768,
 * touch) and a phone (390x844, touch), against a live hub of 40 bays in two rows (FakeClock at
 * 10:00 UTC). On each: sign-in, admin and kiosk have no serious or critical axe-core violation;
 * a wrong token stays in its field; the free-now board matches the schedule; a group of 3 bays
 * is booked by tapping the start and end cells (and by press-and-hold-drag on touch); focus and
 * scroll stay across live updates; a booking is made with the keyboard only; the kiosk offers
 * distinct options, a later start and a map, and keeps the focus. Screenshots of every page at
 * every screen go to test-artifacts/ (gitignored: they are rewritten on every run).
 */
import type { Test } from 'tap'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { ADMIN_TOKEN, connectMachine, disconnectMachine, runFor, settle, type World } from '../interfaces/http/world.js'
import { ARTIFACTS, browserSkipReason, buildBrowserWorld, type Device } from './world.js'
import { addAxe, axeViolations, serious, summary } from './axe.js'

// Page-side functions run in Chromium (functions, not strings: the CSP forbids eval); the test
// tsconfig has no DOM types, so declare the little they touch.
interface El {
  id: string
  value: string
  scrollTop: number
  scrollLeft: number
  offsetLeft: number
  dataset: Record<string, string | undefined>
  closest(selector: string): El | null
  blur(): void
}
declare const document: { activeElement: El | null; querySelector(selector: string): El | null; querySelectorAll(selector: string): El[] }
declare const window: { scrollY: number; focusMark?: El | null }
declare function getComputedStyle(element: El | null): { getPropertyValue(name: string): string }

export const SCREENS: Record<string, Device & { name: string }> = Object.fromEntries(([
  { name: 'desktop', width: 1366, height: 768, touch: false },
  { name: 'tablet', width: 1024, height: 768, touch: true },
  { name: 'phone', width: 390, height: 844, touch: true },
] as const).map((s) => [s.name, s]))
const at = (h: number, m = 0) => Date.UTC(2026, 0, 10, h, m) / 1000
const ROW_OF = (h: number, m = 0) => h * 12 + m / 5 // 5-minute slots from midnight

/** A busy morning: running groups, a session in 30 min, a block, an override, an offline bay. */
async function morning(t: Test, w: World) {
  const kiosk = { origin: 'kiosk_interface' }
  const admin = { origin: 'admin_portal', isAdmin: true }
  const book = async (machine_id: number[], start: number, minutes: number, by: { origin: string; isAdmin?: boolean } = kiosk, status: 'reserved' | 'maintenance' = 'reserved') => {
    const r = await w.scheduling.submit({ machine_id, status, start_time: start, duration: minutes * 60 }, by)
    t.ok(r.ok, `set-up: bays ${machine_id.join(',')} at ${new Date(start * 1000).toISOString().slice(11, 16)}`)
  }
  await book([1, 2, 3], at(10), 90)
  await book([6], at(10, 30), 30)
  await book([8], at(11, 30), 60)
  await book([12], at(10), 240, admin, 'maintenance')
  await book([22, 23], at(10), 45, { origin: 'reservation_interface' })
  t.ok((await w.machines.override({ machine_id: 25, status: 'maintenance', scheduled_until: at(12) }, { source: 'admin', node: 'admin_portal' })).ok, 'set-up: bay 25 in maintenance until 12:00')
  await disconnectMachine(w, 30)
  await runFor(w, 5000, 1000)
  await settle(w)
}

/** What the board must say, from the hub's own state (not from the page). */
function expectedBoard(w: World) {
  const now = w.clock.now() / 1000
  const sessions = w.scheduling.list().filter((s) => ['reserved', 'active', 'held', 'maintenance'].includes(s.status))
  const states = new Map<number, string>()
  for (let id = 1; id <= 40; id++) {
    const m = w.machines.get(id)!
    const on = sessions.filter((s) => s.machine_id.includes(id))
    const out = !m.online || m.status === 'error' || m.status === 'maintenance' || (m.desired?.source === 'admin' && m.desired.status !== 'active')
    if (out) states.set(id, 'out')
    else if (on.some((s) => s.start_time <= now && s.end_time > now)) states.set(id, 'busy')
    else if (on.some((s) => s.start_time > now && s.start_time < now + 3600)) states.set(id, 'free')
    else states.set(id, 'free-hour')
  }
  const count = (...kinds: string[]) => [...states.values()].filter((s) => kinds.includes(s)).length
  return { states, counts: { 'free-now': count('free', 'free-hour'), 'free-hour': count('free-hour'), busy: count('busy'), out: count('out') } }
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false })
}

async function noSerious(t: Test, page: Page, what: string) {
  const violations = await axeViolations(page)
  t.same(serious(violations), [], `axe-core: no serious or critical violation on ${what}`)
  t.comment(`axe on ${what}: ${summary(violations)}`)
}

async function slotHeight(page: Page) {
  return page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.sched')).getPropertyValue('--slot-h')))
}

/** Scroll the grid so `row` is near its top and `bay` near its left edge; returns cell centres. */
async function showCell(page: Page, bay: number, row: number) {
  const slotH = await slotHeight(page)
  await page.locator('#schedule').scrollIntoViewIfNeeded()
  await page.evaluate(
    ([b, y]) => {
      const grid = document.querySelector('#grid')!
      const col = document.querySelector(`.col[data-bay="${b}"]`)!
      grid.scrollTop = y
      grid.scrollLeft = Math.max(0, col.offsetLeft - 80)
    },
    [bay, (row - 3) * slotH] as const,
  )
  return async (b: number, r: number) => {
    const box = (await page.locator(`.col[data-bay="${b}"]`).boundingBox())!
    return { x: box.x + box.width / 2, y: box.y + r * slotH + slotH / 2 }
  }
}

/** Every issue-18 check on one screen. */
export function testScreen(t: Test, screen: Device & { name: string }) {
  const skip = browserSkipReason()
  if (skip) t.comment(skip)
  // three pages, 40 dispensers and some 70 checks on a shared 2-core machine
  t.setTimeout(300_000)
  t.test(`${screen.name} ${screen.width}x${screen.height}${screen.touch ? ' touch' : ''}`, { skip: skip ?? false }, async (t) => {
    const w = await buildBrowserWorld(t, 40, screen, { env: { HUB_MACHINES: '1-40', HUB_LAYOUT: '1-20;21-40' } })
    await addAxe(w.context)
    await morning(t, w)
    const errors: string[] = []
    const page = await w.page(errors)
    const name = (what: string) => `${what}-${screen.name}`

    // ------------------------------------------------------------ sign-in
    await page.goto(`${w.base}/`)
    await page.waitForSelector('#signin:not([hidden])')
    await shot(page, name('signin'))
    await noSerious(t, page, 'the sign-in page')
    await page.fill('#token', 'wrong-token-123')
    await page.click('#signin-form button')
    await page.waitForSelector('#signin-error:text("not valid")')
    t.equal(await page.inputValue('#token'), 'wrong-token-123', 'a wrong token stays in the field to be corrected')
    t.match(errors, [/401/], 'only the refused token')
    errors.length = 0
    await page.fill('#token', ADMIN_TOKEN)
    await page.click('#signin-form button')
    await page.waitForSelector('#live.live')
    await page.waitForSelector('#board li[data-bay="40"]')
    await page.waitForSelector('.sched .block.maintenance')

    // ------------------------------------------------------------ admin at a glance
    t.equal(await page.locator('.bay-card').count(), 40, '40 bay chips')
    t.equal(await page.locator('.bay-row').count(), 2, 'two rows of bays in the strip')
    t.equal(await page.locator('.sched .row-gap').count(), 1, 'the grid separates the two rows')
    t.equal(await page.locator('.sched .ov[data-bay="25"]').count(), 1, 'the override on bay 25 is drawn on the grid')
    t.equal(await page.locator('.sched .ov[data-bay="30"]').count(), 1, 'offline bay 30 is drawn on the grid')
    const grid = (await page.locator('#grid').boundingBox())!
    if (screen.name !== 'phone') t.ok(grid.y < screen.height! * 0.4, `the grid starts in the top 40 % of the first screen (at ${Math.round(grid.y)} px)`)
    if (screen.name === 'tablet') {
      const last = (await page.locator('.col[data-bay="40"]').boundingBox())!
      t.ok(last.x + last.width <= screen.width!, 'all 40 bays fit across the counter tablet without scrolling sideways')
    }
    await shot(page, name('admin'))
    await noSerious(t, page, 'the admin page')

    // ------------------------------------------------------------ the board matches the schedule
    const want = expectedBoard(w)
    const shown = new Map((await page.$$eval('#board li', (lis) => lis.map((li) => [Number((li as unknown as El).dataset.bay), (li as unknown as El).dataset.state!] as const))))
    t.same(Object.fromEntries(shown), Object.fromEntries(want.states), 'each bay on the board as the hub has it')
    for (const [k, n] of Object.entries(want.counts)) t.equal(await page.textContent(`#board-counts [data-count="${k}"]`), String(n), `${k}: ${n}`)
    t.match(await page.textContent('#board li[data-bay="6"]'), /free · next 10:30/, 'bay 6 is free but booked in 30 minutes')
    t.match(await page.textContent('#board li[data-bay="1"]'), /busy until 11:30/)
    t.match(await page.textContent('#bay-summary'), new RegExp(`${want.counts['free-now']} free now · ${want.counts['free-hour']} free for the next hour`), 'the counts sit above the strip')

    // ------------------------------------------------------------ group booking of 3 bays by two taps
    {
      const cell = await showCell(page, 14, ROW_OF(12))
      const a = await cell(14, ROW_OF(12))
      const b = await cell(16, ROW_OF(12, 55))
      if (screen.touch) await page.touchscreen.tap(a.x, a.y)
      else await page.mouse.click(a.x, a.y)
      await page.waitForSelector('#grid-status:text("Selected Bay 14, 12:00–12:05")')
      const again = await cell(16, ROW_OF(12, 55))
      t.same(again, b, 'marking the start does not move the grid under the finger')
      if (screen.touch) await page.touchscreen.tap(b.x, b.y)
      else await page.mouse.click(b.x, b.y)
      await page.waitForSelector('#dlg-book[open]')
      t.equal(await page.inputValue('#dlg-book [name=bays]'), '14-16')
      t.equal(await page.inputValue('#dlg-book [name=start]'), '12:00')
      t.equal(await page.inputValue('#dlg-book [name=minutes]'), '60')
      await shot(page, name('admin-group-dialog'))
      await noSerious(t, page, 'the booking dialog')
      await page.click('#dlg-book button.primary')
      await page.waitForSelector('#dlg-book:not([open])', { state: 'attached' })
      await page.waitForSelector('.sched .block[title^="Bays 14–16"]')
      t.match(w.scheduling.list().find((s) => s.machine_id.includes(14)), { machine_id: [14, 15, 16], start_time: at(12), duration: 3600, status: 'reserved' }, 'three bays booked for an hour')
    }

    // ------------------------------------------------------------ press and hold, then drag (touch)
    if (screen.touch) {
      const cell = await showCell(page, 33, ROW_OF(13))
      const a = await cell(33, ROW_OF(13))
      const b = await cell(35, ROW_OF(13, 25))
      const cdp = await w.context.newCDPSession(page)
      const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', p?: { x: number; y: number }) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: p ? [{ x: p.x, y: p.y }] : [] })
      await touch('touchStart', a)
      await page.waitForSelector('#grid-status:text("Selected Bay 33, 13:00–13:05")') // the hold marks the start
      for (let i = 1; i <= 6; i++) await touch('touchMove', { x: a.x + ((b.x - a.x) * i) / 6, y: a.y + ((b.y - a.y) * i) / 6 })
      const scrolled = await page.evaluate(() => document.querySelector('#grid')!.scrollTop)
      await touch('touchEnd')
      await page.waitForSelector('#dlg-book[open]')
      t.equal(await page.inputValue('#dlg-book [name=bays]'), '33-35', 'hold and drag selected three bays')
      t.equal(await page.inputValue('#dlg-book [name=start]'), '13:00')
      t.equal(await page.inputValue('#dlg-book [name=minutes]'), '30')
      t.equal(await page.evaluate(() => document.querySelector('#grid')!.scrollTop), scrolled, 'the drag did not scroll the grid')
      await page.click('#dlg-book button.primary')
      await page.waitForSelector('#dlg-book:not([open])', { state: 'attached' })
      await page.waitForSelector('.sched .block[title^="Bays 33–35"]')
      t.match(w.scheduling.list().find((s) => s.machine_id.includes(33)), { machine_id: [33, 34, 35], start_time: at(13), duration: 1800 })
    }

    // ------------------------------------------------------------ focus and scroll kept across live updates
    {
      await page.focus('#bays .bay-card[tabindex="0"]')
      for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight')
      t.equal(await page.evaluate(() => document.activeElement?.dataset.bay), '5', 'arrows move along the strip')
      await page.evaluate(() => (window.focusMark = document.activeElement))
      const before = await page.evaluate(() => ({ y: window.scrollY, top: document.querySelector('#grid')!.scrollTop, left: document.querySelector('#grid')!.scrollLeft }))
      await disconnectMachine(w, 7)
      t.ok((await w.scheduling.submit({ machine_id: [9], status: 'reserved', start_time: at(10, 30), duration: 1800 }, { origin: 'kiosk_interface' })).ok)
      await settle(w)
      await page.waitForSelector('.bay-card[data-bay="7"].s-offline')
      await page.waitForSelector('#board li[data-bay="9"][data-state="free"]')
      t.ok(await page.evaluate(() => document.activeElement === window.focusMark), 'the focused bay chip keeps the focus through the updates')
      const after = await page.evaluate(() => ({ y: window.scrollY, top: document.querySelector('#grid')!.scrollTop, left: document.querySelector('#grid')!.scrollLeft }))
      t.same(after, before, 'page and grid scroll unchanged')

      // the same inside the grid: the cursor cell keeps the focus while a block appears beside it
      await page.keyboard.press('Tab')
      t.equal(await page.evaluate(() => document.activeElement?.closest('.howto') !== null), true, 'Tab leaves the strip (one stop for 40 chips) for the booking help')
      await page.keyboard.press('Tab')
      t.ok(await page.evaluate(() => document.activeElement?.closest('#grid') !== null), 'the next Tab is in the grid')
      await page.keyboard.press('ArrowDown')
      await page.evaluate(() => (window.focusMark = document.activeElement))
      const top = await page.evaluate(() => document.querySelector('#grid')!.scrollTop)
      t.ok((await w.scheduling.submit({ machine_id: [10, 11], status: 'reserved', start_time: at(10, 15), duration: 1800 }, { origin: 'kiosk_interface' })).ok)
      await connectAgain(w, 7)
      await page.waitForSelector('.sched .block[title^="Bays 10–11"]')
      await page.waitForSelector('.bay-card[data-bay="7"].s-idle')
      t.ok(await page.evaluate(() => document.activeElement === window.focusMark), 'the grid keeps its focused cell through the updates')
      t.equal(await page.evaluate(() => document.querySelector('#grid')!.scrollTop), top, 'the grid did not scroll')
    }

    // ------------------------------------------------------------ alerts: filter by kind, dismiss a cleared one
    {
      await page.selectOption('#alerts-kind', 'ball_')
      t.same(await page.locator('#alerts li .msg').allTextContents(), ['machine 9 ball level is low'], 'the kind filter shows the ball alert only')
      await page.selectOption('#alerts-kind', 'offline')
      const cleared = page.locator('#alerts li.cleared', { hasText: 'machine 7' })
      await cleared.waitFor()
      const id = await cleared.locator('[data-dismiss]').getAttribute('data-dismiss')
      await cleared.locator('[data-dismiss]').click()
      await cleared.waitFor({ state: 'detached' })
      t.notOk(w.machines.alerts().some((a) => a.alert_id === id), 'bay 7 came back: its cleared alert is dismissed on the hub')
      await page.selectOption('#alerts-kind', '')
    }

    // ------------------------------------------------------------ keyboard only: skip link, arrows, Enter
    {
      // Shift+Tab from the first toolbar button: the skip link is the page's first stop.
      await page.focus('#day-prev')
      await page.keyboard.press('Shift+Tab')
      t.equal(await page.evaluate(() => document.activeElement?.closest('.skip-link') !== null), true, 'the first Tab reaches the skip link')
      await page.keyboard.press('Enter')
      const pos = () => page.evaluate(() => ({ bay: Number(document.querySelector('.sched .cursor')!.dataset.bay), row: Number(document.querySelector('.sched .cursor')!.dataset.row) }))
      t.ok(await page.evaluate(() => document.activeElement?.closest('#grid') !== null), 'the skip link lands in the grid')
      const go = async (bay: number, row: number) => {
        for (let guard = 0; guard < 400; guard++) {
          const p = await pos()
          if (p.bay === bay && p.row === row) return
          if (p.row < row - 11) await page.keyboard.press('PageDown')
          else if (p.row > row + 11) await page.keyboard.press('PageUp')
          else if (p.row !== row) await page.keyboard.press(p.row < row ? 'ArrowDown' : 'ArrowUp')
          else await page.keyboard.press(p.bay < bay ? 'ArrowRight' : 'ArrowLeft')
        }
        throw new Error(`cursor did not reach bay ${bay} row ${row}`)
      }
      await go(17, ROW_OF(13))
      t.match(await page.evaluate(() => document.activeElement?.dataset.bay), '17', 'the focused cell is bay 17')
      await page.keyboard.press('Enter')
      await page.waitForSelector('#grid-status:text("Selected Bay 17, 13:00–13:05")')
      await page.keyboard.press('ArrowRight')
      await page.keyboard.press('ArrowRight')
      for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowDown')
      await page.waitForSelector('#grid-status:text("Selected Bays 17–19, 13:00–13:30")')
      await page.keyboard.press('Enter')
      await page.waitForSelector('#dlg-book[open]')
      t.equal(await page.inputValue('#dlg-book [name=bays]'), '17-19')
      t.equal(await page.inputValue('#dlg-book [name=minutes]'), '30')
      await page.keyboard.press('Enter') // the focus is on "Book"
      await page.waitForSelector('#dlg-book:not([open])', { state: 'attached' })
      await page.waitForSelector('.sched .block[title^="Bays 17–19"]')
      t.match(w.scheduling.list().find((s) => s.machine_id.includes(17)), { machine_id: [17, 18, 19], start_time: at(13), duration: 1800 }, 'booked with the keyboard alone')
      t.ok(await page.evaluate(() => document.activeElement?.closest('#grid') !== null), 'the focus is back in the grid after the dialog')
      t.equal(await page.getByRole('button', { name: /^Bays 17–19, reserved, 13:00–13:30 #\d+$/ }).count(), 1, 'the block is named with its bays and time')
      await shot(page, name('admin-keyboard'))
    }
    await noSerious(t, page, 'the admin page after the bookings')
    // The test world has no fleet module (test/interfaces/http/world.ts): the Dispensers panel's
    // GETs answer 503 there, which the console reports. Everything else must be clean.
    const ours = (list: string[]) => list.filter((e) => !/status of 503/.test(e))
    t.same(ours(errors), [], 'no page errors on the admin page')
    errors.length = 0

    // ------------------------------------------------------------ kiosk
    const kiosk = await w.page(errors)
    await kiosk.goto(`${w.base}/kiosk?token=kiosk-token-1`)
    await kiosk.waitForSelector('#step-choose:not([hidden])')
    await shot(kiosk, name('kiosk-choose'))
    await noSerious(t, kiosk, 'the kiosk start')
    await kiosk.click('[data-bays="2"]')
    await kiosk.click('[data-minutes="60"]')
    await kiosk.focus('#find')
    await kiosk.keyboard.press('Enter')
    await kiosk.waitForSelector('#step-options:not([hidden]) .option')
    t.equal(await kiosk.evaluate(() => document.activeElement?.id), 'options-title', 'after "Show free bays" the focus is on the list heading')
    const options = async () =>
      (await kiosk.$$eval('.option', (els) => els.map((e) => (e as unknown as { textContent: string }).textContent))).map((text) => {
        const bays = text.match(/Bays? ([\d–, ]+)/)![1]!
        const when = text.match(/Start now|Starts (\d\d:\d\d)/)!
        return { bays, start: when[1] ?? 'now', text }
      })
    const first = await options()
    t.ok(first.length >= 2, `options: ${first.map((o) => `${o.bays} ${o.start}`).join(' | ')}`)
    t.equal(new Set(first.map((o) => o.bays)).size, first.length, 'every option offers different bays')
    const offered = first.flatMap((o) => baysOf(o.bays)).sort((a, b) => a - b)
    const marked = (await kiosk.$$eval('.map-bay.offered', (els) => els.map((e) => Number((e as unknown as El).dataset.bay)))).sort((a, b) => a - b)
    t.same(marked, offered, 'the map marks exactly the offered bays')
    t.equal(await kiosk.locator('.map-row').count(), 2, 'the map shows both rows')
    await shot(kiosk, name('kiosk-options'))
    await noSerious(t, kiosk, 'the kiosk options')

    t.equal(await kiosk.textContent('#clock'), '10:00', "the kiosk shows the hub's time")
    await kiosk.click('#later-open')
    await kiosk.waitForSelector('#later-times:not([hidden]) [data-from]')
    const times = await kiosk.locator('#later-times [data-from]:not([data-from=""])').allTextContents()
    t.same(times.slice(0, 3), ['10:30', '11:00', '11:30'], 'later starts on the half hour, in the venue 24-h time')
    await kiosk.click('#later-times [data-from]:text("11:30")')
    await kiosk.waitForSelector('#options-title:text("from 11:30")')
    t.equal(await kiosk.evaluate(() => document.activeElement?.id), 'options-title', 'focus on the heading of the new list')
    const later = await options()
    t.ok(later.length >= 2, `later options: ${later.map((o) => `${o.bays} ${o.start}`).join(' | ')}`)
    t.ok(later.every((o) => o.start !== 'now' && o.start >= '11:30'), 'all start at 11:30 or later')
    const pairs = later.map((o) => `${o.bays}@${o.start}`)
    t.equal(new Set(pairs).size, pairs.length, 'no option twice')
    await shot(kiosk, name('kiosk-later'))
    await noSerious(t, kiosk, 'the kiosk later options')
    t.same(ours(errors), [], 'no page errors on the kiosk')
  })
}

async function connectAgain(w: World, id: number) {
  await connectMachine(w, id)
  await settle(w)
}

/** '17–19' -> [17, 18, 19]; '5' -> [5]; '3, 5' -> [3, 5] */
function baysOf(text: string): number[] {
  return text.split(/,\s*/).flatMap((part) => {
    const [lo, hi = lo] = part.split('–').map(Number) as [number, number?]
    return Array.from({ length: hi! - lo + 1 }, (_, i) => lo + i)
  })
}

