/**
 * The Dispensers panel in Chromium against the full in-process hub (issue 16): staff open
 * enrollment, a new device (a real MQTT client on the enrollment login) appears, staff identify
 * it (it hears `identify`) and assign it to bay 12 (it gets its secret and logs in as
 * machine_012); then a manager uploads an image and rolls it out to bays 1-3, watching the
 * progress per bay until every bay is updated. The scripted bays follow the update protocol
 * (download from the hub, check SHA-256, report the new firmware).
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import mqtt, { type MqttClient } from 'mqtt'
import { chromium } from 'playwright-core'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/index.js'
import { createHub } from '../../src/hub.js'
import { addMachine } from '../helpers/broker.js'
import { CHROMIUM, browserSkipReason } from './world.js'

const skip = browserSkipReason()
if (skip) t.comment(skip)

// Page-side function (not a string: the pages' CSP forbids eval); no DOM types in the test tsconfig.
declare const document: { getElementById(id: string): { textContent: string | null } | null }

const TOKEN = 'admin-token-for-fleet-browser-01'
const SECRET = 'enroll-secret-for-browser-test-01'
const MAC = 'a4cf12b3c4d5'

function nextCommand(client: MqttClient, command: string): Promise<Record<string, any>> {
  return new Promise((resolve) => {
    const on = (_topic: string, payload: Buffer) => {
      const m = JSON.parse(payload.toString()) as Record<string, any>
      if (m.command !== command) return
      client.off('message', on)
      resolve(m)
    }
    client.on('message', on)
  })
}

async function updatingBay(url: string, id: number): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId: `machine_${id}`, username: `machine_${id}`, password: `secret-${id}`, keepalive: 10, reconnectPeriod: 0 })
  let firmware = '1.0.0'
  const report = () => client.publishAsync('external/handler', JSON.stringify({ machine_id: id, status: 'idle', ball_level: 'full', firmware }))
  client.on('message', (_topic, payload) => {
    const m = JSON.parse(payload.toString()) as Record<string, any>
    if (m.request_type === 'update') {
      void (async () => {
        const image = Buffer.from(await (await fetch(m.url)).arrayBuffer())
        if (createHash('sha256').update(image).digest('hex') !== m.sha256) return
        firmware = m.version
        await report()
      })()
    } else if (typeof m.exchange_id === 'number' && m.success === undefined) {
      void client.publishAsync('external/handler', JSON.stringify({ success: true, exchange_id: m.exchange_id, session_id: m.session_id, status: m.status, machine_id: id }))
    }
  })
  await client.subscribeAsync(`external/machine/${id}`, { qos: 1 })
  await report()
  return client
}

t.test('staff adopt a new dispenser and roll out firmware from the admin page', { skip: skip ?? false }, async (t) => {
  const dataDir = t.testdir()
  for (const id of [1, 2, 3]) await addMachine(dataDir, id, `secret-${id}`)
  const config = loadConfig({
    HUB_DATA_DIR: dataDir, HUB_MQTT_PORT: '0', HUB_HTTP_PORT: '0', HUB_MACHINES: '1-20', HUB_TIMEZONE: 'UTC', HUB_LOG_LEVEL: 'silent',
    HUB_ADMIN_TOKEN: TOKEN, HUB_ENROLL_SECRET: SECRET,
  })
  const hub = await createHub({ config, log: pino({ level: 'silent' }) })
  t.teardown(() => hub.close())
  const url = `mqtt://127.0.0.1:${hub.ports.mqtt}`
  const bays = await Promise.all([1, 2, 3].map((id) => updatingBay(url, id)))
  t.teardown(() => Promise.all(bays.map((b) => b.endAsync(true))))

  const profile = mkdtempSync(join(tmpdir(), 'dispenser-hub-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'], viewport: { width: 1440, height: 900 },
    // a tablet in another zone (UTC+14) than the venue (UTC): the page named the end of the
    // enrollment window in the tablet's zone
    timezoneId: 'Pacific/Kiritimati',
  })
  t.teardown(async () => {
    await context.close()
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
  })
  const errors: string[] = []
  const page = await context.newPage()
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(`http://127.0.0.1:${hub.ports.http}/`)
  await page.fill('#token', TOKEN)
  await page.click('#signin-form button')
  await page.waitForSelector('#fleet-panel:not([hidden])')

  await page.click('#enroll-open')
  await page.waitForSelector('#enroll-status[data-open="true"]')
  const window = (await (await fetch(`http://127.0.0.1:${hub.ports.http}/api/enrollment`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { until: number }
  t.equal(await page.textContent('#enroll-status'), `Enrollment open until ${new Date(window.until * 1000).toISOString().slice(11, 16)}`, "the window's end in the venue's zone")

  const device = await mqtt.connectAsync(url, { clientId: `enroll_${MAC}`, username: 'enroll', password: SECRET, keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => device.endAsync(true))
  await device.subscribeAsync(`external/enroll/${MAC}`, { qos: 1 })
  await device.publishAsync(`external/enroll/${MAC}`, JSON.stringify({ mac: MAC, firmware: '1.0.0', ip_address: '192.168.4.77', rssi: -58 }))
  const row = page.locator(`#fleet-pending tr[data-mac="${MAC}"]`)
  await row.waitFor({ timeout: 10_000 })
  t.match(await row.textContent(), /192\.168\.4\.77/, 'the waiting device is listed with its announcement')

  const identify = nextCommand(device, 'identify')
  await row.locator('button[data-act="identify"]').click()
  t.match(await identify, { command: 'identify', seconds: 10 }, 'Identify reached the device')
  t.match(await page.textContent('#fleet-message'), /blinking/)

  const assign = nextCommand(device, 'assign')
  await row.locator('input[data-bay]').fill('12')
  await row.locator('button[data-act="assign"]').click()
  const a = await assign
  t.match(a, { machine_id: 12, username: 'machine_012' }, 'Assign sent the bay and its secret')
  const bay12 = await mqtt.connectAsync(url, { clientId: 'machine_012', username: 'machine_012', password: a.secret, keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => bay12.endAsync(true))
  await row.waitFor({ state: 'detached', timeout: 10_000 })
  t.pass('once it logged in as bay 12 it left the waiting list')

  await page.setInputFiles('#fw-file', { name: 'dispenser-1.1.0.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(64_000, 3) })
  await page.fill('#fw-version', '1.1.0')
  await page.click('#fw-upload button[type="submit"]')
  await page.waitForFunction(() => document.getElementById('fleet-message')?.textContent?.includes('Uploaded 1.1.0') ?? false, undefined, { timeout: 10_000 })
  await page.fill('#fw-bays', '1-3')
  await page.fill('#fw-batch', '2')
  await page.selectOption('#fw-rollout-version', '1.1.0')
  await page.click('#fw-rollout button[type="submit"]')
  await page.waitForSelector('#fw-summary[data-state="completed"]', { timeout: 30_000 })
  t.equal(await page.locator('#fw-progress tr[data-state="updated"]').count(), 3, 'the page shows every bay updated')
  t.match(await page.textContent('#fw-summary'), /3 updated/)
  t.same(errors, [], 'no page errors')
})
