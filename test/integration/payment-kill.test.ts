/**
 * Issue 12: kill -9 between the gateway's callback and the activation. The real hub process
 * (two simulated dispensers) and the terminal stand-in on real sockets: a kiosk booking waits
 * `held`, the gateway's signed callback is answered only after the payment is durable, the hub
 * is killed before the session's start, and after the restart the session is paid exactly once
 * and activates (the dispenser turns on); a duplicate callback changes nothing. A second booking
 * is approved while the hub is down (its callback fails): the status poll at start-up marks it paid.
 */
import t from 'tap'
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js'
import { addApiToken } from '../helpers/api-token.js'
import { startStandIn } from '../helpers/terminal-stand-in.js'
import { zoneClearOfMidnight } from '../helpers/clear-of-midnight.js'
import { FLAT_TABLE } from '../helpers/prices.js'

const ADMIN = 'payment-kill-admin-token-0123456789'
const SECRET = 'payment-kill-terminal-secret-0123'

interface SessionView {
  session_id: number
  status: string
  payments?: Array<{ kind: string; payment_id: string }>
  payment_request?: { payment_id: string; status: string }
}

async function api(hub: HubProcess, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${hub.httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, json: (text ? JSON.parse(text) : null) as any }
}

/** Polls until `check` holds (the hub's own timers drive the change), failing after `ms`. */
async function until<T>(what: string, get: () => Promise<T>, check: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await get()
    if (check(v)) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

t.test('kill -9 after the callback, before the activation: paid exactly once, activates after restart; duplicates change nothing', { timeout: 300_000 }, async (t) => {
  const dir = t.testdir()
  const standIn = await startStandIn(SECRET)
  t.teardown(() => standIn.close())
  const kiosk = addApiToken(dir, 'lobby_kiosk', 'kiosk')
  const env = {
    HUB_DATA_DIR: dir,
    HUB_MACHINES: '1-6',
    // "today's" takings below: a venue day that cannot turn over while the test runs (with UTC,
    // a run starting a minute or two before 00:00 UTC took the payments on one day and read the next)
    HUB_TIMEZONE: zoneClearOfMidnight().timeZone,
    HUB_ADMIN_TOKEN: ADMIN,
    HUB_SIMULATE: '2',
    HUB_PAYMENT_URL: standIn.url,
    HUB_PAYMENT_SECRET: SECRET,
    HUB_PAYMENT_POLL_SECONDS: '1',
  }
  let hub = await startHubProcess(env, 120_000)
  t.teardown(() => hub.kill())
  standIn.hub = `http://127.0.0.1:${hub.httpPort}`
  t.equal((await api(hub, ADMIN, 'PUT', '/api/prices', FLAT_TABLE)).status, 200)

  // Starts in 20 s: the kill lands after the payment and before the activation.
  const start = Math.ceil(Date.now() / 1000) + 20
  const booked = await api(hub, kiosk, 'POST', '/api/sessions', { machine_id: 1, status: 'reserved', start_time: start, duration: 1800 })
  t.equal(booked.status, 201)
  t.equal(booked.json.status, 'held')
  const id = booked.json.session_id as number
  t.equal((await api(hub, kiosk, 'POST', `/api/sessions/${id}/payment/terminal`)).status, 200)
  const request = await standIn.nextRequest()

  // A second booking, to be approved while the hub is down.
  const second = await api(hub, kiosk, 'POST', '/api/sessions', { machine_id: 2, status: 'reserved', start_time: start, duration: 1800 })
  const id2 = second.json.session_id as number
  t.equal((await api(hub, kiosk, 'POST', `/api/sessions/${id2}/payment/terminal`)).status, 200)
  const request2 = await standIn.nextRequest()

  const answer = await standIn.settle(request.payment_id, 'approved')
  t.equal(answer?.status, 200, 'the callback is answered after the durable write')
  await hub.kill('SIGKILL')
  t.ok(Date.now() / 1000 < start, 'killed before the session started')

  await standIn.settle(request2.payment_id, 'approved', { callback: false })
  const dupWhileDown = await standIn.callback(request2.payment_id).catch((e: Error) => ({ status: 0, body: e.message }))
  t.equal(dupWhileDown.status, 0, 'the callback for the second booking is lost: the hub is down')

  // Wait past the start, then restart on the same data dir.
  await new Promise((r) => setTimeout(r, Math.max(0, (start + 1) * 1000 - Date.now())))
  hub = await startHubProcess(env, 120_000)
  standIn.hub = `http://127.0.0.1:${hub.httpPort}`
  const after = await until('session active', async () => (await api(hub, ADMIN, 'GET', `/api/sessions/${id}`)).json as SessionView, (s) => s.status === 'active')
  t.equal(after.payments?.filter((p) => p.kind === 'payment').length, 1, 'paid exactly once')
  const machine = await until('dispenser 1 on', async () => (await api(hub, ADMIN, 'GET', '/api/machines/1')).json.machine, (m) => m.reported_status === 'active')
  t.equal(machine.session_id, id, 'the dispenser runs the paid session')

  const dup = await standIn.callback(request.payment_id)
  t.same([dup.status, JSON.parse(dup.body).duplicate], [200, true], 'a duplicate callback after the restart changes nothing')
  const again = (await api(hub, ADMIN, 'GET', `/api/sessions/${id}`)).json as SessionView
  t.equal(again.payments?.length, 1, 'still one payment record')

  const polled = await until('second booking paid by the poll', async () => (await api(hub, ADMIN, 'GET', `/api/sessions/${id2}`)).json as SessionView, (s) => s.status === 'active')
  t.equal(polled.payments?.length, 1, 'the lost callback was caught up by the status poll, once')
  const dup2 = await standIn.callback(request2.payment_id)
  t.same([dup2.status, JSON.parse(dup2.body).duplicate], [200, true])

  const audit = await api(hub, ADMIN, 'GET', `/api/audit?kind=payment.recorded`)
  const entries = (audit.json.entries as Array<{ session_id: number }>).filter((e) => e.session_id === id || e.session_id === id2)
  t.equal(entries.length, 2, 'one payment.recorded audit entry per payment')
  const takings = await api(hub, ADMIN, 'GET', '/api/payments')
  t.same([takings.json.total, takings.json.count], [1200, 2], 'takings count each payment once (two half hours at 12.00)')
})
