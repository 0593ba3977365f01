/**
 * Sell only what can dispense (issue 11) in Chromium: the admin puts a booked bay in
 * maintenance, sees the sessions it would hit named in a second step, gives a reason and
 * confirms; the kiosk never offers a bay in maintenance or offline.
 */
import t from 'tap'
import { join } from 'node:path'
import { disconnectMachine, inMinutes, settle } from '../interfaces/http/world.js'
import { ARTIFACTS, browserSkipReason, buildBrowserWorld, signInAsAdmin } from './world.js'

declare const document: { querySelector(selector: string): { open?: boolean } | null }

const skip = browserSkipReason()
if (skip) t.comment(skip)

t.test('admin: maintenance on a booked bay asks to confirm the named sessions, then applies', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t)
  const booked = await w.scheduling.submit({ machine_id: 6, status: 'reserved', start_time: inMinutes(w, 60), duration: 3600 }, { origin: 'kiosk_interface' })
  if (!booked.ok) return t.fail(booked.message)
  const id = booked.value.session.session_id
  const errors: string[] = []
  const page = await w.page(errors)
  await signInAsAdmin(page, w.base)
  await page.click('.bay-card[data-bay="6"]')
  await page.waitForSelector('#dlg-bay[open]')
  await page.click('#dlg-bay button[value=maintenance]')
  await page.waitForSelector('#dlg-bay .confirm-step:not([hidden])')
  const named = await page.textContent('#dlg-bay .affected')
  t.match(named, new RegExp(`^bay 6 has session ${id} \\(11:00-12:00\\); to put in maintenance it send confirm: true and a reason$`), 'the second step names the session')
  t.equal(w.machines.get(6)?.desired?.status, 'idle', 'nothing changed yet')
  await page.screenshot({ path: join(ARTIFACTS, 'admin-confirm-maintenance.png') })
  await page.click('#dlg-bay button[value=confirm]')
  t.match(await page.textContent('#dlg-bay .error'), /^Reason/, 'a reason is required')
  await page.fill('#dlg-bay [name=reason]', 'net torn behind bay 6')
  await page.click('#dlg-bay button[value=confirm]')
  await page.waitForFunction(() => !document.querySelector('#dlg-bay')?.open)
  await settle(w)
  await page.waitForSelector('.bay-card[data-bay="6"].s-maintenance')
  t.equal(w.machines.get(6)?.desired?.status, 'maintenance', 'applied after the confirmation')
  t.same(errors.filter((e) => !/409/.test(e)), [], 'no page errors besides the expected 409')
})

t.test('kiosk: never offers a bay in maintenance or offline', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t)
  t.ok((await w.machines.override({ machine_id: 1, status: 'maintenance' }, { source: 'admin', node: 'admin_portal' })).ok)
  await disconnectMachine(w, 2)
  await w.clock.advance(61_000) // past HUB_OFFLINE_GRACE_SECONDS
  await settle(w)
  const errors: string[] = []
  const page = await w.page(errors)
  await page.setViewportSize({ width: 1080, height: 1400 })
  await page.goto(`${w.base}/kiosk?token=kiosk-token-1`)
  await page.waitForSelector('#step-choose:not([hidden])')
  await page.click('[data-bays="1"]')
  await page.click('[data-minutes="60"]')
  await page.click('#find')
  await page.waitForSelector('#step-options:not([hidden]) .option')
  const labels = await page.locator('.option strong').allTextContents()
  t.ok(labels.length > 0, `options shown: ${labels.join(' | ')}`)
  const bays = labels.flatMap((l) => (l.match(/\d+/g) ?? []).map(Number))
  t.notOk(bays.includes(1), 'bay 1 (maintenance) is not offered')
  t.notOk(bays.includes(2), 'bay 2 (offline) is not offered')
  t.same(errors, [], 'no page errors')
})
