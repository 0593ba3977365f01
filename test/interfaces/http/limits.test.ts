/**
 * Failed-token throttling per address (limits.ts, issue 10) with the issue 17 shortcut: an address
 * without a failure in the window is not looked up in the rate-limit store at all, and one with
 * failures is throttled exactly as before — also when more addresses failed than are noted.
 */
import Fastify, { type FastifyRequest } from 'fastify'
import t from 'tap'
import { installLimits } from '../../../src/interfaces/http/limits.js'

async function limits(t: { teardown(fn: () => unknown): void }, perMinute: number) {
  const app = Fastify()
  t.teardown(() => app.close())
  const l = await installLimits(app, { httpAuthFailuresPerMinute: perMinute, httpBookingsPerMinute: 100 })
  await app.ready()
  // What the limiter reads of a request: its address and its route's options.
  const from = (ip: string) => ({ ip, routeOptions: { config: {} } }) as unknown as FastifyRequest
  return { ...l, from }
}

t.test('an address with no failed token check is never looked up; failures throttle that address only', async (t) => {
  const l = await limits(t, 3)
  t.equal(l.authBlocked(l.from('10.0.0.1')), undefined, 'no failure: answered at once, no store lookup')
  // the plugin's rule: blocked once the count goes past the limit
  for (let i = 0; i < 4; i++) {
    t.equal(await l.authBlocked(l.from('10.0.0.1')), undefined, `still allowed after ${i} failure(s)`)
    await l.authFailed(l.from('10.0.0.1'))
  }
  const wait = await l.authBlocked(l.from('10.0.0.1'))
  t.ok(wait !== undefined && wait >= 1 && wait <= 60, `blocked for ${wait} s after 4 failures`)
  t.equal(l.authBlocked(l.from('10.0.0.2')), undefined, 'another address is not')
})

t.test('more failing addresses than are noted: every address asks the store, and the throttled ones stay throttled', async (t) => {
  const l = await limits(t, 2)
  for (let i = 0; i < 3; i++) await l.authFailed(l.from('10.1.0.1'))
  t.ok((await l.authBlocked(l.from('10.1.0.1'))) !== undefined, 'throttled')
  // a flood of one failure each from more addresses than are noted (4,096), fewer than the store keeps (5,000)
  for (let i = 0; i < 4500; i++) await l.authFailed(l.from(`10.2.${i >> 8}.${i & 255}`))
  const clean = l.authBlocked(l.from('10.3.0.1'))
  t.ok(clean instanceof Promise, 'past the bound, even a clean address is looked up')
  t.equal(await clean, undefined, 'and allowed')
  t.ok((await l.authBlocked(l.from('10.1.0.1'))) !== undefined, 'the throttled address is still throttled')
  await l.authFailed(l.from('10.2.0.7'))
  await l.authFailed(l.from('10.2.0.7'))
  t.ok((await l.authBlocked(l.from('10.2.0.7'))) !== undefined, 'more failures of a flooding address throttle it (limit 2)')
})
