/**
 * The venue calendar in Chromium (issue 14 "Must show"): a manager adds "Tuesdays 07:00-09:00
 * closed for mowing, bays 1-40" on the admin page; the booking it affects is named and the change
 * saved only on "save anyway"; the grid shades the window; the kiosk offers nothing there; a cloud
 * reservation for Tuesday 08:00 comes back `refused` naming the window.
 */
import t from 'tap'
import { join } from 'node:path'
import type { Response } from 'playwright-core'
import { createReservationSync } from '../../src/link/reservations.js'
import type { Outbox } from '../../src/link/outbox.js'
import type { ReservationOutcome } from '../../src/protocol/cloud.js'
import { ARTIFACTS, browserSkipReason, buildBrowserWorld } from './world.js'

declare const document: { querySelector(selector: string): { open?: boolean } | null }

const skip = browserSkipReason()
if (skip) t.comment(skip)

// Tuesday 2026-01-13, 06:30 in the venue (UTC).
const TUE = Date.UTC(2026, 0, 13) / 1000
const at = (hm: string) => TUE + Number(hm.slice(0, 2)) * 3600 + Number(hm.slice(3)) * 60

/** Webhook-only sync (no cloud URL): the outcome is the answer; nothing is queued. */
const noOutbox: Outbox<ReservationOutcome> = { append: async () => [], peek: async () => [], ack: async () => {}, size: () => 0 }

t.test('manager closes Tuesdays 07:00-09:00 for mowing: grid shaded, kiosk offers nothing there, a reservation is refused naming the window', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t, 40, {}, { startMs: at('06:30') * 1000, env: { HUB_MACHINES: '1-40' } })
  await w.staff.change({ kind: 'add', username: 'mia', role: 'manager', password: 'password-mia' }, 'node:cli')
  const early = await w.scheduling.submit({ machine_id: 5, status: 'reserved', start_time: at('08:00'), duration: 1800 }, { origin: 'reservation_interface' })
  if (!early.ok) return t.fail(early.message)

  const errors: string[] = []
  const page = await w.page(errors)
  await page.goto(`${w.base}/`)
  await page.fill('#username', 'mia')
  await page.fill('#password', 'password-mia')
  await page.click('#login-form button')
  await page.waitForSelector('#live.live')
  await page.click('#calendar-open')
  await page.waitForSelector('#dlg-calendar[open]')
  await page.click('#cal-add-window')
  const row = page.locator('#cal-windows tr').last()
  await row.locator('[name=bays]').fill('1-40')
  await row.locator('[name=day-tue]').check()
  await row.locator('[name=from]').fill('07:00')
  await row.locator('[name=to]').fill('09:00')
  await row.locator('[name=kind]').selectOption('closed')
  await row.locator('[name=reason]').fill('mowing')
  await page.click('#dlg-calendar button[value=save]')
  // The booked session in the window is named before anything is saved.
  await page.waitForSelector('#cal-affected:not([hidden])')
  t.match(await page.textContent('#cal-affected li'), new RegExp(`^Session #${early.value.session.session_id}, bay 5, 08:00–08:30 \\(reservation_interface\\): bay 5 is closed for mowing`))
  t.same(w.scheduling.calendar().calendar.windows, [], 'not saved before "save anyway"')
  await page.click('#cal-save-anyway')
  await page.waitForFunction(() => !document.querySelector('#dlg-calendar')?.open)
  t.match(w.scheduling.calendar().calendar.windows, [{ bays: '1-40', days: ['tue'], from: '07:00', to: '09:00', kind: 'closed', reason: 'mowing' }])
  t.equal(w.scheduling.calendar().updated_by, 'staff:mia')

  // The grid shades the window on every bay (bay 5's booked half hour stays a session block).
  await page.waitForSelector('.ov-calendar-closed[data-bay="1"]')
  await page.waitForSelector('.ov-calendar-closed[data-bay="40"]')
  t.match(await page.getAttribute('.ov-calendar-closed[data-bay="1"]', 'title'), /mowing/)
  t.equal(await page.locator('.ov-calendar-closed').count() >= 40, true, 'one band per bay at least')
  await page.screenshot({ path: join(ARTIFACTS, 'admin-calendar-mowing.png') })

  // The kiosk offers nothing in 07:00-09:00.
  const kiosk = await w.page(errors)
  await kiosk.setViewportSize({ width: 1080, height: 1400 })
  await kiosk.goto(`${w.base}/kiosk?token=kiosk-token-1`)
  await kiosk.waitForSelector('#step-choose:not([hidden])')
  await kiosk.click('[data-bays="1"]')
  await kiosk.click('[data-minutes="60"]')
  const answer = kiosk.waitForResponse((r: Response) => r.url().includes('/api/availability'))
  await kiosk.click('#find')
  const { options } = (await (await answer).json()) as { options: Array<{ machine_id: number[]; start_time: number; end_time: number }> }
  await kiosk.waitForSelector('#step-options:not([hidden]) .option')
  t.ok(options.length > 0, 'options are offered')
  for (const o of options) t.ok(o.end_time <= at('07:00') || o.start_time >= at('09:00'), `bay ${o.machine_id} option ${new Date(o.start_time * 1000).toISOString().slice(11, 16)} lies outside the mowing`)
  await kiosk.screenshot({ path: join(ARTIFACTS, 'kiosk-calendar-mowing.png') })

  // A reservation from the cloud for Tuesday 08:00 is refused, naming the window.
  const sync = createReservationSync({ cloudUrl: null, token: null, pullSeconds: 60, siteId: 'venue', scheduling: w.scheduling, outcomes: noOutbox, state: { get: async () => undefined, put: async () => {} }, clock: w.hubClock, log: (await import('pino')).pino({ level: 'silent' }) })
  t.teardown(() => sync.stop())
  const outcome = await sync.apply({ external_id: 'web-812', bays: [12], start: new Date(at('08:00') * 1000).toISOString(), duration_minutes: 60, status: 'booked' })
  t.match(outcome, { external_id: 'web-812', status: 'refused', reason: /^start_time: bay 12 is closed for mowing Tue 2026-01-13 07:00-09:00 \(calendar window 1: bays 1-40, tue 07:00-09:00\)$/ })
  t.same(errors.filter((e) => !/409/.test(e)), [], 'no page errors besides the expected 409')
})
