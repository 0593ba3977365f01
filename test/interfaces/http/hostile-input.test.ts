/**
 * Issue 10 at the HTTP door, through inject: odd tokens are 401 (never 500), bounded values are
 * 400 naming the field, no route answers 5xx to any input, every response carries the security
 * headers, failed sign-ins and bookings are rate-limited, and there is no CORS.
 */
import t from 'tap'
import { createTokenCheck } from '../../../src/interfaces/http/auth.js'
import { auth, buildWorld, inMinutes } from './world.js'

const ODD_TOKENS = ['dh_constructor_' + 'A'.repeat(43), 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'dh___proto___' + 'A'.repeat(43), 'x'.repeat(100_000)]

t.test('odd bearer tokens are 401, and a throwing lookup is an unknown token', async (t) => {
  const w = await buildWorld(t)
  for (const token of ODD_TOKENS) {
    const res = await w.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 401, token.slice(0, 30))
    t.equal(res.json().error, 'UNAUTHORIZED')
  }
  const logged: unknown[] = []
  const check = createTokenCheck({
    adminToken: 'admin-token-0123456789abcdef',
    verifyToken: () => {
      throw new TypeError('tokens[name].sha256 is undefined')
    },
    log: { error: (...args: unknown[]) => logged.push(args) } as never,
  })
  t.equal(check('dh_constructor_' + 'A'.repeat(43)), undefined, 'no exception escapes the token check')
  t.equal(logged.length, 1, 'and it is logged')
  const plain: Record<string, never> = {}
  const prototypeHit = createTokenCheck({ adminToken: 'admin-token-0123456789abcdef', verifyToken: (token) => plain[token] })
  t.equal(prototypeHit('constructor'), undefined, 'a lookup that finds something without name and role is no principal')
})

t.test('bounded values: 400 naming the field, nothing booked', async (t) => {
  const w = await buildWorld(t)
  const get = (url: string) => w.app.inject({ url, headers: auth('kiosk') })
  const cases: Array<[string, RegExp]> = [
    ['/api/availability?bays=1&minutes=30&near=1e300', /^query\.near: must be <= 4294967296$/],
    [`/api/availability?bays=1&minutes=30&near=${inMinutes(w, 401 * 24 * 60)}`, /^near: more than 400 days ahead/],
    ['/api/schedule?date=9999-12-31', /^date: "9999-12-31" is more than 400 days from today/],
    ['/api/schedule?date=2026-02-30', /^date: "2026-02-30" does not exist in the calendar$/],
    ['/api/schedule?date=2026-13-01', /^date: "2026-13-01" does not exist/],
    ['/api/sessions?date=2026-02-30', /^date: "2026-02-30" does not exist/],
    ['/api/sessions?date=9999-12-31', /^date: /],
  ]
  for (const [url, message] of cases) {
    const res = await get(url)
    t.equal(res.statusCode, 400, url)
    t.match(res.json().message, message, url)
  }
  const book = (body: object) => w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('kiosk'), payload: body })
  const huge = await book({ machine_id: 1, status: 'reserved', start_time: 1e300, duration: 600 })
  t.equal(huge.statusCode, 400)
  t.equal(huge.json().message, 'body.start_time: must be <= 4294967296')
  const far = await book({ machine_id: 1, status: 'reserved', start_time: inMinutes(w, 401 * 24 * 60), duration: 600 })
  t.equal(far.statusCode, 400)
  t.match(far.json().message, /^start_time: more than 400 days ahead/)
  const near = await book({ machine_id: 1, status: 'reserved', start_time: inMinutes(w, 399 * 24 * 60), duration: 600 })
  t.equal(near.statusCode, 201, 'inside the window is fine')
  const patch = await w.app.inject({ method: 'PATCH', url: `/api/sessions/${near.json().session_id}`, headers: auth('kiosk'), payload: { start_time: 1e300 } })
  t.equal(patch.statusCode, 400)
  t.equal(w.scheduling.list().length, 1)
  const ok = await get('/api/schedule?date=2026-02-28')
  t.equal(ok.statusCode, 200, 'a real date inside the window')
})

t.test('no route answers 5xx to hostile input', async (t) => {
  const w = await buildWorld(t)
  const spec = (await w.app.inject({ url: '/docs/json' })).json() as {
    paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }>; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>>
  }
  const values: unknown[] = [1e300, -1, 0, 9007199254740991, 2 ** 31, 'constructor', '__proto__', '', 'x'.repeat(3000), '2026-02-30', '9999-12-31', [], {}, null, true, [1e300], { __proto__: 1 }]
  const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))
  let requests = 0
  const failures: string[] = []
  const send = async (method: string, url: string, payload?: unknown, as: 'admin' | 'kiosk' = 'admin') => {
    requests++
    const res = await w.app.inject({ method: method as 'GET', url, headers: { ...auth(as), ...(payload !== undefined && { 'content-type': 'application/json' }) }, ...(payload !== undefined && { payload: JSON.stringify(payload) }) })
    if (res.statusCode >= 500) failures.push(`${method} ${url} ${payload === undefined ? '' : JSON.stringify(payload).slice(0, 80)} -> ${res.statusCode} ${res.body}`)
  }
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name)
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
      const fill = (v: unknown) => params.reduce((url, name) => url.replace(`{${name}}`, encodeURIComponent(text(v))), path)
      for (const v of values) {
        await send(method.toUpperCase(), fill(v))
        for (const q of query) await send(method.toUpperCase(), `${fill(1)}?${q}=${encodeURIComponent(text(v))}`)
      }
      const props = Object.keys(op.requestBody?.content['application/json']?.schema.properties ?? {})
      if (!op.requestBody) continue
      for (const body of [null, [], 'text', 1e300, {}]) await send(method.toUpperCase(), fill(1), body)
      for (const prop of props) {
        for (const v of values) {
          for (const as of ['admin', 'kiosk'] as const) await send(method.toUpperCase(), fill(1), { machine_id: 1, status: 'reserved', duration: 600, [prop]: v }, as)
        }
      }
    }
  }
  t.ok(requests > 500, `${requests} requests sent`)
  t.same(failures, [], 'no 5xx')
})

t.test('security headers on every response; no CORS', async (t) => {
  const w = await buildWorld(t)
  for (const url of ['/', '/kiosk', '/assets/admin.js', '/docs', '/docs/json', '/api/health', '/api/schedule', '/api/nothing']) {
    const res = await w.app.inject({ url, headers: { origin: 'http://evil.example' } })
    const h = res.headers
    t.match(h['content-security-policy'], /default-src 'self'.*script-src 'self'/, `${url}: CSP`)
    t.notMatch(String(h['content-security-policy']), /upgrade-insecure-requests/, `${url}: plain HTTP on the LAN keeps working`)
    t.equal(h['x-content-type-options'], 'nosniff', url)
    t.equal(h['x-frame-options'], 'DENY', url)
    t.equal(h['referrer-policy'], 'no-referrer', url)
    t.equal(h['strict-transport-security'], undefined, `${url}: no HSTS on plain HTTP`)
    t.equal(h['access-control-allow-origin'], undefined, `${url}: no CORS`)
  }
  const preflight = await w.app.inject({ method: 'OPTIONS', url: '/api/sessions', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } })
  t.equal(preflight.headers['access-control-allow-origin'], undefined, 'a cross-origin preflight is not granted')
  t.ok(preflight.statusCode >= 400 && preflight.statusCode < 500)
})

t.test('failed sign-ins per address and bookings per token are rate-limited', async (t) => {
  const w = await buildWorld(t)
  const statuses: number[] = []
  for (let i = 0; i < 25; i++) statuses.push((await w.app.inject({ url: '/api/me', headers: auth('bad') })).statusCode)
  t.same(statuses.slice(0, 20), Array(20).fill(401))
  const limited = await w.app.inject({ url: '/api/me', headers: auth('kiosk'), remoteAddress: '127.0.0.1' })
  t.equal(limited.statusCode, 429, 'the address is throttled, good token or not')
  t.equal(limited.json().error, 'RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) > 0)
  const elsewhere = await w.app.inject({ url: '/api/me', headers: auth('kiosk'), remoteAddress: '192.168.4.50' })
  t.equal(elsewhere.statusCode, 200, 'another address is not delayed')

  const book = (i: number) =>
    w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('kiosk'), remoteAddress: '192.168.4.51', payload: { machine_id: 1 + (i % 20), status: 'reserved', start_time: inMinutes(w, 60 + 30 * Math.floor(i / 20)), duration: 600 } })
  const codes: number[] = []
  for (let i = 0; i < 125; i++) codes.push((await book(i)).statusCode)
  t.equal(codes.filter((c) => c === 201).length, 120, 'HUB_HTTP_BOOKINGS_PER_MINUTE bookings go through')
  t.equal(codes.at(-1), 429)
  const other = await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('reservation'), remoteAddress: '192.168.4.51', payload: { machine_id: 1, status: 'reserved', start_time: inMinutes(w, 600), duration: 600 } })
  t.equal(other.statusCode, 201, 'another token has its own budget')
  t.equal((await w.app.inject({ url: '/api/schedule', headers: auth('kiosk'), remoteAddress: '192.168.4.51' })).statusCode, 200, 'reads are not booking requests')
})
