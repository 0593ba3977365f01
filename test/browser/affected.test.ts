/**
 * Affected sessions in Chromium (issue 11): the admin puts a booked bay in maintenance, confirms
 * the named session with a reason, sees it listed under "Affected sessions" with a Move button
 * naming the nearest free bay, and moves it with one tap; the grid marks an unsellable bay.
 */
import t from 'tap'
import { join } from 'node:path'
import { inMinutes, settle } from '../interfaces/http/world.js'
import { ARTIFACTS, browserSkipReason, buildBrowserWorld, signInAsAdmin } from './world.js'

declare const document: { querySelector(selector: string): { open?: boolean; textContent: string | null } | null }

const skip = browserSkipReason()
if (skip) t.comment(skip)

t.test('admin: maintenance on a booked bay -> confirm the named session -> move it with one tap', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t, 20, {}, { affected: true })
  const booked = await w.scheduling.submit({ machine_id: 6, status: 'reserved', start_time: inMinutes(w, 60), duration: 3600 }, { origin: 'kiosk_interface' })
  if (!booked.ok) return t.fail(booked.message)
  const id = booked.value.session.session_id
  // Bay 12 is already in maintenance: the day's grid shows it as not for sale.
  const held = await w.machines.override({ machine_id: 12, status: 'maintenance', scheduled_until: inMinutes(w, 240) }, { source: 'admin', node: 'admin_portal' })
  t.ok(held.ok)
  await settle(w)

  const errors: string[] = []
  const page = await w.page(errors)
  await signInAsAdmin(page, w.base)
  await page.waitForSelector('.sched .ov-unavailable[data-bay="12"]')
  t.match(await page.getAttribute('.sched .ov-unavailable[data-bay="12"]', 'title'), /^bay 12 is in maintenance until/, 'the grid names why bay 12 is not for sale')
  t.match(await page.textContent('#affected'), /No session is on a bay that cannot serve it/)

  await page.click('.bay-card[data-bay="6"]')
  await page.waitForSelector('#dlg-bay[open]')
  await page.click('#dlg-bay button[value=maintenance]')
  await page.waitForSelector('#dlg-bay .confirm-step:not([hidden])')
  t.match(await page.textContent('#dlg-bay .affected'), new RegExp(`session ${id} \\(11:00-12:00\\)`), 'the second step names the session')
  await page.fill('#dlg-bay [name=reason]', 'net torn behind bay 6')
  await page.click('#dlg-bay button[value=confirm]')
  await page.waitForFunction(() => !document.querySelector('#dlg-bay')?.open)
  await settle(w)

  // Listed as affected, with a one-tap move to the nearest free bay (5 and 7 are as near: the lower).
  const button = `#affected li[data-session="${id}"] button[data-move="${id}"]`
  await page.waitForSelector(button)
  t.match(await page.textContent(`#affected li[data-session="${id}"]`), /bay 6 is in maintenance/, 'the reason is shown')
  t.equal((await page.textContent(button))?.trim(), 'Move to bay 5')
  t.match(w.affected!.get(id), { affected: true, bays: [{ machine_id: 6, reason: 'maintenance' }] })
  await page.screenshot({ path: join(ARTIFACTS, 'admin-affected-sessions.png') })

  await page.click(button)
  await page.waitForSelector(`#affected li[data-session="${id}"]`, { state: 'detached' })
  await settle(w)
  t.same(w.scheduling.get(id)?.machine_id, [5], 'moved with one tap')
  t.match(w.affected!.get(id), { affected: false, cleared_reason: 'moved' })
  t.match(await page.textContent('#toasts'), new RegExp(`Session ${id} moved from bay 6 to bay 5`))
  // 503: the fleet panel asks for /api/devices, which this test world does not wire
  t.same(errors.filter((e) => !/409|503/.test(e)), [], 'no page errors besides the expected 409 of the first step')
})
