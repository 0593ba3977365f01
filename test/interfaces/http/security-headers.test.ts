/**
 * issue 17: helmet's headers are recorded once and set from the list on every request; a response
 * gets exactly what helmet itself gives it, and a middleware whose headers depend on the request
 * (or that finishes later) is not recorded, so it keeps running per request.
 */
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import helmet from 'helmet'
import t from 'tap'
import { recordHeaders, securityHeaders } from '../../../src/interfaces/http/app.js'
import { auth, buildWorld } from './world.js'

const response = () => {
  const res = new ServerResponse(new IncomingMessage(new Socket()))
  res.setHeader('X-Powered-By', 'something')
  return res
}

t.test('the recorded headers are what helmet sets on a real response, for several option sets', async (t) => {
  t.ok(recordHeaders(helmet(securityHeaders)), "the hub's own options are recorded (set from the list on every request)")
  const options = [
    securityHeaders,
    {},
    { hsts: false, frameguard: { action: 'deny' as const }, contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"] } } },
    { contentSecurityPolicy: false, referrerPolicy: { policy: ['origin', 'unsafe-url'] as Array<'origin' | 'unsafe-url'> }, xPoweredBy: false },
  ]
  for (const option of options) {
    const middleware = helmet(option)
    const byHelmet = response()
    middleware(byHelmet.req, byHelmet, () => {})
    const recorded = recordHeaders(middleware)
    if (!recorded) return t.fail('recorded')
    const fromList = response()
    for (const [name, value] of recorded.set) fromList.setHeader(name, value)
    for (const name of recorded.remove) fromList.removeHeader(name)
    t.same(fromList.getHeaders(), byHelmet.getHeaders(), JSON.stringify(option))
  }
})

t.test('a middleware that reads the request or answers later is not recorded', async (t) => {
  t.equal(recordHeaders((req, res: { setHeader(n: string, v: string): void }, next) => (res.setHeader('x-host', String((req as { headers?: object }).headers)), next())), undefined, 'reads the request')
  t.equal(recordHeaders((_req, _res, next) => void setImmediate(next)), undefined, 'finishes later')
  t.equal(recordHeaders((_req, _res, next) => next(new Error('no'))), undefined, 'fails')
  t.equal(recordHeaders(() => { throw new Error('no') }), undefined, 'throws')
  const csp = helmet({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", (_req: unknown, res: unknown) => `'nonce-${String((res as { locals?: unknown }).locals)}'`] } } })
  t.equal(recordHeaders(csp), undefined, 'a CSP built per request from the response')
  let n = 0
  t.equal(recordHeaders(helmet({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => `'nonce-${n++}'`] } } })), undefined, 'a nonce of its own')
})

t.test('every response of the app carries the security headers, errors included', async (t) => {
  const w = await buildWorld(t)
  for (const [url, headers] of [['/api/health', {}], ['/api/me', auth('kiosk')], ['/api/me', {}], ['/nope', {}]] as const) {
    const res = await w.app.inject({ url, headers })
    t.match(res.headers['content-security-policy'], /default-src 'self'/, `${url} ${res.statusCode}`)
    t.equal(res.headers['x-frame-options'], 'DENY')
    t.equal(res.headers['cross-origin-opener-policy'], 'same-origin')
    t.equal(res.headers['x-powered-by'], undefined)
  }
})
