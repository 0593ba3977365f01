/**
 * Issue 10, the HTTP extras against the real process: security headers on every response
 * (pages, /docs, /api, errors), no CORS, a cap on /api/live connections (HUB_LIVE_MAX_CLIENTS),
 * and failed token checks throttled per address (HUB_HTTP_AUTH_FAILURES_PER_MINUTE) on REST and
 * on the live feed alike, while the hub keeps serving.
 */
import t from 'tap'
import WebSocket from 'ws'
import { addApiToken } from '../helpers/api-token.js'
import { startHubProcess } from '../helpers/hub-process.js'

const opened = (ws: WebSocket) => new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
const closed = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))

t.test('headers, no CORS, live-feed cap and failed-auth throttling on the real hub', async (t) => {
  const dir = t.testdir()
  const kiosk = addApiToken(dir, 'kiosk1', 'kiosk')
  const hub = await startHubProcess({
    HUB_DATA_DIR: dir, HUB_MACHINES: '1-5', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'admin-token-for-the-limits-test',
    HUB_LIVE_MAX_CLIENTS: '3', HUB_HTTP_AUTH_FAILURES_PER_MINUTE: '5',
  })
  t.teardown(() => hub.kill())
  const base = `127.0.0.1:${hub.httpPort}`

  for (const path of ['/', '/kiosk', '/docs', '/docs/json', '/api/health', '/api/schedule', '/nope']) {
    const res = await fetch(`http://${base}${path}`, { headers: { origin: 'http://evil.example' } })
    t.match(res.headers.get('content-security-policy'), /default-src 'self'/, `${path}: CSP`)
    t.equal(res.headers.get('x-frame-options'), 'DENY', `${path}: no framing`)
    t.equal(res.headers.get('x-content-type-options'), 'nosniff', path)
    t.equal(res.headers.get('access-control-allow-origin'), null, `${path}: no CORS`)
  }

  const live = [0, 1, 2].map(() => new WebSocket(`ws://${base}/api/live`))
  await Promise.all(live.map(opened))
  const snapshots = live.map((ws) => new Promise((resolve) => ws.once('message', resolve)))
  live.forEach((ws) => ws.send(JSON.stringify({ token: kiosk })))
  await Promise.all(snapshots)
  const fourth = new WebSocket(`ws://${base}/api/live`)
  t.equal(await closed(fourth), 1013, 'the 4th connection is refused: try again later')
  const gone = closed(live[0]!)
  live[0]!.close()
  await gone
  // The server frees the place when it sees the close; try a few times rather than sleep.
  let snapshot: string | undefined
  for (let i = 0; i < 20 && !snapshot; i++) {
    const again = new WebSocket(`ws://${base}/api/live?token=${kiosk}`)
    snapshot = await new Promise<string | undefined>((resolve) => {
      again.once('message', (d) => resolve(String(d)))
      again.once('close', () => resolve(undefined))
    })
    again.close()
  }
  t.match(JSON.parse(snapshot ?? '{}'), { topic: 'snapshot' }, 'a freed place can be taken')
  live.slice(1).forEach((ws) => ws.close())

  const codes: number[] = []
  for (let i = 0; i < 7; i++) codes.push((await fetch(`http://${base}/api/me`, { headers: { authorization: `Bearer dh_guess_${i}` } })).status)
  t.same(codes.slice(0, 5), [401, 401, 401, 401, 401])
  t.equal(codes.at(-1), 429, 'guessing is throttled')
  const good = await fetch(`http://${base}/api/me`, { headers: { authorization: `Bearer ${kiosk}` } })
  t.equal(good.status, 429, 'the address waits, whatever token it sends now')
  t.ok(Number(good.headers.get('retry-after')) > 0)
  const feed = new WebSocket(`ws://${base}/api/live?token=${kiosk}`)
  t.equal(await closed(feed), 4429, 'the live feed applies the same throttle')
  t.equal((await fetch(`http://${base}/api/health`)).status, 200, 'public routes still answer')
  t.equal(hub.child.exitCode, null)
})
