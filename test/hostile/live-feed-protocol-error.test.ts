/**
 * Found by the fuzzer (scripts/fuzz): every WebSocket frame over the live feed's 16 KiB limit was
 * logged by the hub at error level with a stack ("RangeError: Max payload size exceeded"), so any
 * anonymous client could fill the log with errors. A client's protocol error is bad input: one
 * warn line, the socket dropped, the hub and other feed clients unaffected.
 */
import t from 'tap'
import WebSocket from 'ws'
import { startHubProcess } from '../helpers/hub-process.js'

function session(url: string, frames: Array<string | Buffer>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.on('open', () => frames.forEach((f) => ws.send(f)))
    ws.on('close', (code) => resolve(code))
    ws.on('error', () => {})
    setTimeout(() => reject(new Error('socket not closed within 10 s')), 10_000).unref()
  })
}

t.test('oversized and invalid frames on /api/live are warnings, not errors', async (t) => {
  const hub = await startHubProcess({ HUB_DATA_DIR: t.testdir(), HUB_MACHINES: '1-5', HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'admin-token-for-the-test' })
  t.teardown(() => hub.kill())
  const url = `ws://127.0.0.1:${hub.httpPort}/api/live`
  const closes = [await session(url, ['x'.repeat(20_000)]), await session(url, [JSON.stringify({ token: 'admin-token-for-the-test' }), 'y'.repeat(100_000)])]
  t.same(closes, [1009, 1009], 'each socket is closed with 1009 (message too big)')
  const health = await fetch(`http://127.0.0.1:${hub.httpPort}/api/health`)
  t.equal(health.status, 200, 'the hub answers')
  const warnings = hub.logs.filter((l) => l.msg === 'live feed: client protocol error, socket dropped')
  t.equal(warnings.length, 2, 'one warning per bad socket')
  t.match(warnings[0], { level: 40, code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' })
  t.same(hub.logs.filter((l) => typeof l.level === 'number' && l.level >= 50), [], 'nothing logged at error level')
})
