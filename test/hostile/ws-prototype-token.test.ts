/**
 * Issue 10 defect 1: one unauthenticated WebSocket frame `{"token":"dh_constructor_" + 43 × "A"}`
 * on /api/live threw inside the socket's message listener and killed the process; the same token
 * as a REST bearer gave 500. Now every /api/live handler is guarded and the token check never
 * throws: the socket closes 4401, REST answers 401, and the process keeps serving.
 */
import t from 'tap'
import WebSocket from 'ws'
import { addApiToken } from '../helpers/api-token.js'
import { startHubProcess } from '../helpers/hub-process.js'

const ODD = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'].map((name) => `dh_${name}_${'A'.repeat(43)}`)

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })))
}

t.test('prototype-named tokens on /api/live and as bearers leave the hub running', async (t) => {
  const dir = t.testdir()
  const kiosk = addApiToken(dir, 'kiosk1', 'kiosk')
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_MACHINES: '1-5', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'admin-token-for-the-ws-test' })
  t.teardown(() => hub.kill())
  const base = `127.0.0.1:${hub.httpPort}`

  for (const token of ODD) {
    const ws = new WebSocket(`ws://${base}/api/live`)
    const closed = closeOf(ws)
    await new Promise((resolve) => ws.once('open', resolve))
    ws.send(JSON.stringify({ token }))
    t.match(await closed, { code: 4401 }, `${token.slice(0, 18)}…: refused as an unknown token`)
    const rest = await fetch(`http://${base}/api/me`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(rest.status, 401, `${token.slice(0, 18)}… as a bearer: 401`)
  }
  const byQuery = new WebSocket(`ws://${base}/api/live?token=${ODD[0]}`)
  t.match(await closeOf(byQuery), { code: 4401 }, '?token= too')

  // Signed in, then junk frames: each is ignored or closes that socket only.
  const ws = new WebSocket(`ws://${base}/api/live`)
  const snapshot = new Promise<Record<string, unknown>>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)) as Record<string, unknown>)))
  await new Promise((resolve) => ws.once('open', resolve))
  ws.send(JSON.stringify({ token: kiosk }))
  t.match(await snapshot, { topic: 'snapshot', payload: { role: 'kiosk' } })
  const pong = new Promise<Record<string, unknown>>((resolve) => ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as Record<string, unknown>
    if (m.topic === 'pong') resolve(m)
  }))
  for (const frame of ['{', 'null', '[]', '{"type":{"toString":1}}', '{"__proto__":{"type":"ping"}}', Buffer.from([0xff, 0xfe, 0x00])]) ws.send(frame)
  ws.send(JSON.stringify({ type: 'ping' }))
  t.match(await pong, { topic: 'pong' }, 'the socket still answers after junk')
  ws.close()

  const health = await fetch(`http://${base}/api/health`)
  t.equal(health.status, 200, '/api/health answers')
  t.equal(hub.child.exitCode, null, 'the process is alive')
  t.notOk(hub.logs.some((l) => /uncaught|unhandled/i.test(String(l.msg))), 'nothing reached the event loop')
})
