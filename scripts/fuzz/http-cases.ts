/**
 * Hostile HTTP requests (well-formed and raw malformed) and WebSocket sessions against the hub's
 * Fastify side. Same rule as the MQTT payloads: nothing here may change state when the hub is
 * correct (the admin token only ever sends broken bodies or names sessions that do not exist).
 */
import { hostileSessionBody, hostileStart, hostileValue, nonexistentId, toJson, type Attacker, type PayloadContext } from './payloads.js'
import type { Rng } from './rng.js'

export interface HttpTokens {
  admin: string
  kiosk: string
  reservation: string
}

export interface HttpCase {
  kind: 'http'
  method: string
  path: string
  headers: Record<string, string>
  body?: Buffer
  /** a mutation that must never succeed (2xx) */
  mutation: boolean
  note: string
}

export interface RawHttpCase {
  kind: 'raw-http'
  bytes: Buffer
  note: string
}

export interface WsCase {
  kind: 'ws'
  path: string
  frames: Array<string | Buffer>
  note: string
}

export type WebCase = HttpCase | RawHttpCase | WsCase

const PROTO = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype']
const fakeSecret = (c = 'A') => c.repeat(43)

function hostileToken(rng: Rng): string {
  return rng.pick([
    `dh_${rng.pick(PROTO)}_${fakeSecret()}`,
    `dh_${rng.pick(PROTO)}_${fakeSecret('_')}`,
    `dh_admin_portal_${fakeSecret()}`,
    `dh_lobby_${fakeSecret('-')}`,
    'dh__' + fakeSecret(),
    'x'.repeat(rng.int(1, 5000)),
    'null',
    'undefined',
    '%00',
    'dh_a_' + 'A'.repeat(42) + '\u00e9',
  ])
}

function authHeader(rng: Rng, tokens: HttpTokens, who: 'admin' | 'kiosk' | 'reservation' | 'hostile' | 'none'): Record<string, string> {
  switch (who) {
    case 'admin': return { authorization: `Bearer ${tokens.admin}` }
    case 'kiosk': return { authorization: `Bearer ${tokens.kiosk}` }
    case 'reservation': return { authorization: `Bearer ${tokens.reservation}` }
    case 'none': return {}
    default:
      return { authorization: rng.pick([`Bearer ${hostileToken(rng)}`, 'Bearer', 'Bearer  ', `Basic ${Buffer.from('admin:admin').toString('base64')}`, `bearer ${hostileToken(rng)} extra`, `Bearer ${tokens.admin}x`, `Bearer ${tokens.kiosk.slice(0, -1)}`]) }
  }
}

function hostileQueryValue(rng: Rng, ctx: PayloadContext): string {
  const v = rng.pick([
    '1e300', '-1e300', 'Infinity', '-Infinity', 'NaN', '-1', '0', '1.5', '9007199254740993', '99999999999999999999',
    '9999-12-31', '0000-00-00', '2026-02-30', '2026-13-01', '2025-02-29', '10000-01-01', '-0001-01-01', '2026-1-1', ' 2026-01-01',
    '%00', '%ff%fe', 'x'.repeat(rng.int(100, 8000)), '__proto__', 'constructor', '[]', '{}', '',
    String(ctx.now + 401 * 86_400), String(-ctx.now), String(2 ** 31),
  ])
  return encodeURIComponent(v).replace(/%25(00|ff|fe)/g, '%$1')
}

function hostileQuery(rng: Rng, ctx: PayloadContext, keys: string[]): string {
  const parts: string[] = []
  for (const k of keys) if (rng.chance(0.7)) parts.push(`${k}=${hostileQueryValue(rng, ctx)}`)
  if (rng.chance(0.2)) parts.push(`${rng.pick(keys)}=1&${rng.pick(keys)}=2`)
  if (rng.chance(0.15)) parts.push(`${rng.pick(['__proto__[x]', 'constructor[prototype][x]', '__proto__', 'a[b][c][d][e]', 'x'.repeat(3000)])}=1`)
  return parts.length ? `?${parts.join('&')}` : ''
}

/**
 * Ids no session has. `lenient` adds spellings a lax parser reads as a small id (' 1', '0x10'):
 * only for tokens that own no session, since for admin they could name a real one.
 */
function hostileId(rng: Rng, lenient = false): string {
  const ids = [
    '9007199254740991', '9007199254740993', '2147483648', '-1', '0', '1e300', 'abc', '%00', '..%2f..%2fetc%2fpasswd',
    '__proto__', 'constructor', 'x'.repeat(3000), String(nonexistentId(rng)),
  ]
  if (lenient) ids.push(' 1', '0x10', '1%20', '00000000000000000001', '1.5', '1e1', '+2')
  return rng.pick(ids)
}

function jsonBody(value: unknown): Buffer {
  return Buffer.from(toJson(value))
}

function hostileBody(rng: Rng, ctx: PayloadContext): Buffer {
  switch (rng.int(0, 6)) {
    case 0: return Buffer.from(rng.pick(['', '{', 'null', '[]', '"x"', '{"a":1}{', 'NaN', '\u0000']))
    case 1: return Buffer.from('['.repeat(rng.int(1000, 50_000)) + ']'.repeat(rng.int(0, 10)))
    case 2: return Buffer.from(`{"x":"${'a'.repeat(rng.int(1024 * 1024, 2 * 1024 * 1024))}"}`)
    case 3: return Buffer.from('{"__proto__":{"admin":true},"constructor":{"prototype":{"polluted":1}}}')
    case 4: return Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d])
    case 5: return jsonBody({ status: hostileValue(rng), scheduled_until: hostileStart(rng, ctx), release: hostileValue(rng) })
    default: return jsonBody({ machine_id: hostileValue(rng), start_time: hostileStart(rng, ctx), duration: hostileValue(rng) })
  }
}

const contentType = (rng: Rng) =>
  rng.pick(['application/json', 'application/json', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=binary', 'application/vnd.api+json', ''])

/** A well-formed HTTP request with hostile content. */
export function hostileHttp(rng: Rng, ctx: PayloadContext, tokens: HttpTokens): HttpCase {
  const who = rng.pick(['admin', 'kiosk', 'reservation', 'hostile', 'hostile', 'none'] as const)
  const headers: Record<string, string> = { ...authHeader(rng, tokens, who) }
  const attacker: Attacker = { role: who === 'admin' ? 'admin' : who === 'reservation' ? 'reservation' : 'kiosk', name: who }
  const foreign = () => (ctx.foreignSessionIds.length && who !== 'admin' && rng.chance(0.5) ? String(rng.pick(ctx.foreignSessionIds)) : hostileId(rng, who !== 'admin'))
  const r = rng.int(0, 21)
  let c: HttpCase
  switch (r) {
    case 0: c = { kind: 'http', method: 'GET', path: `/api/schedule${hostileQuery(rng, ctx, ['date', 'format'])}`, headers, mutation: false, note: 'schedule query' }; break
    case 1: c = { kind: 'http', method: 'GET', path: `/api/availability${hostileQuery(rng, ctx, ['bays', 'minutes', 'near', 'limit'])}`, headers, mutation: false, note: 'availability query' }; break
    case 2: case 3: case 4: {
      const { body, note } = hostileSessionBody(rng, ctx, attacker)
      headers['content-type'] = rng.chance(0.85) ? 'application/json' : contentType(rng)
      if (rng.chance(0.3)) headers['idempotency-key'] = rng.pick(['k', 'x'.repeat(5000), '__proto__', '\u00e9', String(rng.int(0, 1e9))])
      c = { kind: 'http', method: 'POST', path: '/api/sessions', headers, body, mutation: true, note: `POST session: ${note}` }
      break
    }
    case 5: c = { kind: 'http', method: 'GET', path: `/api/sessions${hostileQuery(rng, ctx, ['date', 'machine_id', 'status'])}`, headers, mutation: false, note: 'session list query' }; break
    case 6: c = { kind: 'http', method: 'GET', path: `/api/sessions/${foreign()}`, headers, mutation: false, note: 'read a session' }; break
    case 7: {
      headers['content-type'] = 'application/json'
      const body = rng.chance(0.5) ? hostileBody(rng, ctx) : jsonBody({ start_time: ctx.window[0] + 600, duration: 600 })
      c = { kind: 'http', method: 'PATCH', path: `/api/sessions/${foreign()}`, headers, body, mutation: true, note: 'patch a foreign or missing session' }
      break
    }
    case 8: c = { kind: 'http', method: 'DELETE', path: `/api/sessions/${foreign()}`, headers, mutation: true, note: 'cancel a foreign or missing session' }; break
    case 9: c = { kind: 'http', method: 'GET', path: `/api/machines${rng.chance(0.5) ? `/${hostileId(rng, true)}` : ''}`, headers, mutation: false, note: 'machines' }; break
    case 10: {
      headers['content-type'] = contentType(rng)
      const id = who === 'admin' ? rng.pick(['0', '99999', '21', '-1', 'x', '1e300', '__proto__']) : String(rng.pick(ctx.bays))
      c = { kind: 'http', method: 'POST', path: `/api/machines/${id}/override`, headers, body: hostileBody(rng, ctx), mutation: true, note: 'override' }
      break
    }
    case 11: c = { kind: 'http', method: 'GET', path: rng.pick(['/api/alerts', '/metrics', '/api/me', '/api/health', '/docs', '/docs/json', '/', '/kiosk']), headers, mutation: false, note: 'plain GET' }; break
    case 12: c = { kind: 'http', method: 'POST', path: `/api/alerts/${hostileId(rng, true)}/ack`, headers, mutation: true, note: 'ack unknown alert' }; break
    case 13: c = { kind: 'http', method: 'GET', path: rng.pick(['/assets/../../package.json', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/etc/passwd', '/assets/admin.js%00.html', '/assets/', '/assets/' + 'a'.repeat(5000), '/..', '//etc/passwd', '/docs/../../../etc/passwd', '/api/../metrics', '/%c0%ae%c0%ae/etc/passwd']), headers, mutation: false, note: 'traversal' }; break
    case 14: {
      headers['content-type'] = 'application/json'
      headers['x-hub-signature-256'] = rng.pick(['', 'sha256=', `sha256=${'0'.repeat(64)}`, 'sha1=abc', 'sha256=' + 'z'.repeat(64), `sha256=${'a'.repeat(rng.int(0, 500))}`])
      if (rng.chance(0.5)) headers['x-hub-timestamp'] = rng.pick(['0', '-1', '1e300', 'x', String(ctx.now - 3600), String(ctx.now)])
      const body = rng.chance(0.5) ? hostileBody(rng, ctx) : jsonBody({ external_id: rng.pick(['r-1', '__proto__', 'x'.repeat(2000)]), bays: [1], start: new Date(ctx.window[0] * 1000 + 600_000).toISOString(), duration_minutes: 30, status: 'booked' })
      c = { kind: 'http', method: 'POST', path: '/api/link/reservations', headers, body, mutation: true, note: 'unsigned webhook' }
      break
    }
    case 15: c = { kind: 'http', method: rng.pick(['PUT', 'OPTIONS', 'TRACE', 'PROPFIND', 'HEAD', 'DELETE', 'PATCH']), path: rng.pick(['/api/sessions', '/api/health', '/', '/api/machines/1', '/metrics']), headers, mutation: false, note: 'odd method' }; break
    case 16: {
      headers['content-type'] = 'application/json'
      c = { kind: 'http', method: 'POST', path: '/api/sessions', headers, body: hostileBody(rng, ctx), mutation: true, note: 'POST session: broken body' }
      break
    }
    case 17: {
      const h: Record<string, string> = { ...headers }
      const name = rng.pick(['x-forwarded-for', 'x-real-ip', 'forwarded', 'host', 'origin', 'cookie', 'accept-encoding', 'accept'])
      const value = rng.pick(['1.2.3.4', '127.0.0.1, 10.0.0.1', 'x'.repeat(rng.int(100, 12_000)), '__proto__=1', '', 'gzip;q=1e300'])
      h[name] = value
      c = { kind: 'http', method: 'GET', path: rng.pick(['/api/health', '/api/schedule', '/api/me']), headers: h, mutation: false, note: `hostile header ${name}: ${value.slice(0, 30)}` }
      break
    }
    case 18: c = { kind: 'http', method: 'GET', path: `/api/${'x/'.repeat(rng.int(10, 2000))}?${'a=1&'.repeat(rng.int(10, 3000))}`, headers, mutation: false, note: 'long path and query' }; break
    case 19: {
      headers['content-type'] = 'application/json'
      headers['content-encoding'] = rng.pick(['gzip', 'deflate', 'br', 'x'])
      c = { kind: 'http', method: 'POST', path: '/api/sessions', headers, body: Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), mutation: true, note: 'compressed body' }
      break
    }
    default: c = { kind: 'http', method: 'GET', path: `/api/sessions/${hostileId(rng, true)}`, headers: { ...authHeader(rng, tokens, 'hostile') }, mutation: false, note: 'hostile token' }
  }
  c.note = `${who}: ${c.note}`
  return c
}

/** Bytes no HTTP client would send. */
export function rawHttp(rng: Rng): RawHttpCase {
  const pick = rng.int(0, 11)
  const cases: Array<[string | Buffer, string]> = [
    ['GET /api/health HTTP/1.1\r\nHost: x\r\nbad header line\r\n\r\n', 'header without colon'],
    [`GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 'header over 16 KB'],
    ['POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'Content-Length and chunked'],
    ['POST /api/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 'bad chunk size'],
    ['POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n', 'negative Content-Length'],
    ['POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}', 'huge Content-Length'],
    ['GET /api/health\r\n\r\n', 'HTTP/0.9 style'],
    ['GET /api/he\u0000alth HTTP/1.1\r\nHost: x\r\n\r\n', 'NUL in path'],
    [Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), 'TLS hello on HTTP'],
    ['GET /api/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: x\r\n\r\n', 'bad WebSocket key'],
    ['GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 'two Content-Length'],
    ['\r\n\r\n\r\nGARBAGE / HTTP/9.9\r\n\r\n', 'bad request line'],
  ]
  const [bytes, note] = cases[pick]!
  return { kind: 'raw-http', bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1'), note }
}

/** A WebSocket session on /api/live: a hostile query or first frames, then whatever follows. */
export function hostileWs(rng: Rng, tokens: HttpTokens): WsCase {
  const frames: Array<string | Buffer> = []
  let path = '/api/live'
  const r = rng.int(0, 11)
  let note: string
  switch (r) {
    case 0: frames.push(JSON.stringify({ token: `dh_${rng.pick(PROTO)}_${fakeSecret()}` })); note = 'prototype token frame'; break
    case 1: path += `?token=${encodeURIComponent(hostileToken(rng))}`; note = 'hostile ?token='; break
    case 2: frames.push(rng.pick(['{"token":123}', '{"token":null}', '{"token":{"toString":1}}', '{"token":["a"]}', '{"__proto__":{"token":"x"}}', '{"token":"' + 'A'.repeat(100_000) + '"}'])); note = 'token of wrong type'; break
    case 3: frames.push(rng.pick(['garbage', '', '{', 'null', '[]', '\u0000'])); note = 'not JSON'; break
    case 4: frames.push(Buffer.from(Array.from({ length: rng.int(1, 500) }, () => rng.int(0, 255)))); note = 'binary frame'; break
    case 5: frames.push('['.repeat(rng.int(1000, 100_000))); note = 'deep nesting'; break
    case 6: frames.push('x'.repeat(rng.int(2, 4) * 1024 * 1024)); note = 'multi-MB frame'; break
    case 7: frames.push('{"type":"ping"}'); note = 'ping before auth'; break
    case 8: {
      frames.push(JSON.stringify({ token: tokens.kiosk }))
      for (let i = 0; i < rng.int(1, 20); i++) frames.push(rng.pick(['{"type":"ping"}', 'garbage', '{"type":"subscribe","topic":"#"}', JSON.stringify({ token: tokens.admin }), '{"type":"__proto__"}', '{"type":"constructor"}', '[]']))
      note = 'kiosk session then junk'
      break
    }
    case 9: frames.push(JSON.stringify({ token: `${tokens.admin}x` })); note = 'admin token + 1 char'; break
    case 10: path += `?token=${encodeURIComponent(tokens.reservation)}&token=${encodeURIComponent(hostileToken(rng))}`; note = 'two ?token='; break
    default: {
      frames.push(JSON.stringify({ token: tokens.reservation }))
      frames.push(Buffer.from([0xff, 0xfe]))
      frames.push('{"type":"ping","pad":"' + 'p'.repeat(rng.int(1000, 100_000)) + '"}')
      note = 'reservation session then binary'
    }
  }
  return { kind: 'ws', path, frames, note }
}
