/**
 * Issue 10 defect 8: a captured signed webhook body, replayed after a newer one, moved the
 * reservation back. The signature now covers `<X-Hub-Timestamp>.<body>` and a timestamp more than
 * 5 minutes off is refused; within those minutes an older `updated_at` is ignored and reported
 * `stale`. The applied version survives kill -9.
 */
import t from 'tap'
import { signature } from '../../src/link/webhook.js'
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js'

// Two hub starts (kill -9 in between): on a loaded CI machine this file may need more than the default 120 s.
t.setTimeout(300_000)

const SECRET = 'webhook-secret-for-the-replay-test'
const ADMIN = 'admin-token-for-the-replay-test'

t.test('a replayed webhook body moves nothing back, before and after a restart', async (t) => {
  const dir = t.testdir()
  const env = { HUB_DATA_DIR: dir, HUB_MACHINES: '1-5', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: ADMIN, HUB_WEBHOOK_SECRET: SECRET }
  let hub: HubProcess = await startHubProcess(env)
  t.teardown(() => hub.kill())
  const send = (body: string, ts = Math.floor(Date.now() / 1000)) =>
    fetch(`http://127.0.0.1:${hub.httpPort}/api/link/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-timestamp': String(ts), 'x-hub-signature-256': signature(SECRET, body, ts) },
      body,
    })
  const session = async () => {
    const all = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/sessions?date=${day}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as Array<{ external_id?: string; machine_id: number[]; status: string }>
    return all.find((s) => s.external_id === 'cap-1')
  }
  const start = Math.floor(Date.now() / 1000 / 3600) * 3600 + 3 * 3600
  const day = new Date(start * 1000).toISOString().slice(0, 10)
  const v1 = JSON.stringify({ external_id: 'cap-1', bays: [1], start, duration_minutes: 60, status: 'booked', updated_at: '2026-01-01T09:00:00Z' })
  const v2 = JSON.stringify({ external_id: 'cap-1', bays: [2], start, duration_minutes: 60, status: 'booked', updated_at: '2026-01-01T09:10:00Z' })
  const capturedAt = Math.floor(Date.now() / 1000)
  t.equal((await send(v1, capturedAt)).status, 200)
  t.equal((await send(v2)).status, 200)
  t.match(await session(), { machine_id: [2] })

  const replay = await send(v1, capturedAt)
  t.equal(replay.status, 200)
  t.match(await replay.json(), { results: [{ external_id: 'cap-1', status: 'stale', reason: /^updated_at: version .* is older than the applied/ }] })
  t.match(await session(), { machine_id: [2] }, 'the replay did not move it back')

  const old = await send(v1, capturedAt - 301)
  t.equal(old.status, 401, 'a capture older than 5 minutes is refused outright')
  t.match(await old.json(), { message: /^x-hub-timestamp: \d+ is more than 300 s from the hub's clock/ })

  await hub.kill('SIGKILL')
  hub = await startHubProcess(env)
  const again = await send(v1, Math.floor(Date.now() / 1000))
  t.match(await again.json(), { results: [{ status: 'stale' }] }, 'the applied version survived kill -9')
  t.match(await session(), { machine_id: [2] })
})
