/**
 * A listening hub for browser tests: the HTTP world of test/interfaces/http (real scheduling and
 * machines on LevelDB, FakeClock) on a real port, with 20 simulated dispensers connected, and
 * Chromium from /usr/bin/chromium in a fresh user-data-dir.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { ADMIN_TOKEN, buildWorld, connectMachine, type World, type WorldOptions } from '../interfaces/http/world.js'

export const CHROMIUM = '/usr/bin/chromium'
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts')

/** Why browser tests cannot run here, or undefined when they can. */
export function browserSkipReason(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `skipped: ${CHROMIUM} not found (install the Debian package chromium)`
}

export interface BrowserWorld extends World {
  base: string
  context: BrowserContext
  /** a new page that fails the test on any page error or console error */
  page(errors: string[]): Promise<Page>
}

/** Sign the admin page in with the admin token and wait until its live feed is connected. */
export async function signInAsAdmin(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/`)
  await page.fill('#token', ADMIN_TOKEN)
  await page.click('#signin-form button')
  await page.waitForSelector('#live.live')
}

/** A screen to test on: size in CSS pixels, and whether it is a touch screen. */
export interface Device {
  touch?: boolean
  width?: number
  height?: number
  /** the tablet's own IANA zone (default: this process's) */
  timezoneId?: string
}

export async function buildBrowserWorld(t: Test, bays = 20, device: Device = {}, options: WorldOptions = {}): Promise<BrowserWorld> {
  const world = await buildWorld(t, options)
  for (let id = 1; id <= bays; id++) await connectMachine(world, id, { ball_level: id === 9 ? 'low' : 'full' })
  await world.app.listen({ host: '127.0.0.1', port: 0 })
  const address = world.app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  // A new empty profile per test, outside tap's fixture dir (Chromium may still flush files as tap cleans up).
  const profile = mkdtempSync(join(tmpdir(), 'dispenser-hub-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: device.width ?? (device.touch ? 1024 : 1440), height: device.height ?? (device.touch ? 768 : 900) },
    hasTouch: device.touch ?? false,
    ...(device.timezoneId && { timezoneId: device.timezoneId }),
  })
  t.teardown(async () => {
    await context.close()
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
  })
  mkdirSync(ARTIFACTS, { recursive: true })
  return {
    ...world,
    base: `http://127.0.0.1:${port}`,
    context,
    async page(errors) {
      const page = await context.newPage()
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
      page.on('console', (m) => {
        // A failed fetch logs only its status; the location names which request it was.
        if (m.type() === 'error') errors.push(`console: ${m.text()}${m.location().url ? ` (${m.location().url})` : ''}`)
      })
      return page
    },
  }
}
