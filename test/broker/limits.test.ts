/** Pure limits of the broker: login back-off, token buckets, bounded log lines, the fair scrypt queue. */
import t from 'tap'
import { createAuthThrottle } from '../../src/broker/auth-throttle.js'
import { createFairLimiter } from '../../src/broker/credentials.js'
import { createLogLimiter } from '../../src/broker/log-limiter.js'
import { createTokenBucket } from '../../src/broker/rate-limit.js'
import { FakeClock } from '../helpers/fake-clock.js'

t.test('failed logins back off per username, doubling up to the maximum', async (t) => {
  const clock = new FakeClock()
  const throttle = createAuthThrottle({ clock, maxFailures: 3, backoffMaxMs: 4000 })
  for (let i = 0; i < 2; i++) throttle.failed('kiosk_interface', '10.0.0.9')
  t.equal(throttle.blockedFor('kiosk_interface', '10.0.0.9'), 0, 'under the limit')
  throttle.failed('kiosk_interface', '10.0.0.9')
  t.equal(throttle.blockedFor('kiosk_interface', '10.0.0.9'), 1000, '1 s after the third')
  t.equal(throttle.blockedFor('kiosk_interface', '10.0.0.7'), 1000, 'the name is blocked from every address')
  t.equal(throttle.blockedFor('machine_004', '10.0.0.9'), 0, 'another name from the same address is not')
  await clock.advance(1000)
  throttle.failed('kiosk_interface', '10.0.0.9')
  t.equal(throttle.blockedFor('kiosk_interface', '10.0.0.9'), 2000)
  await clock.advance(2000)
  throttle.failed('kiosk_interface', '10.0.0.9')
  throttle.failed('kiosk_interface', '10.0.0.9')
  t.equal(throttle.blockedFor('kiosk_interface', '10.0.0.9'), 4000, 'capped at the maximum')
  throttle.succeeded('kiosk_interface', '10.0.0.9')
  t.equal(throttle.blockedFor('kiosk_interface', '10.0.0.9'), 0, 'a good login clears the name')
})

t.test('an address trying many names backs off at 4x the limit', async (t) => {
  const clock = new FakeClock()
  const throttle = createAuthThrottle({ clock, maxFailures: 2, backoffMaxMs: 60_000 })
  for (let i = 0; i < 7; i++) throttle.failed(`name${i}`, '10.0.0.66')
  t.equal(throttle.blockedFor('fresh', '10.0.0.66'), 0)
  throttle.failed('name7', '10.0.0.66')
  t.equal(throttle.blockedFor('fresh', '10.0.0.66'), 1000, 'the 8th failure blocks the address')
  t.equal(throttle.blockedFor('fresh', '10.0.0.1'), 0, 'not other addresses')
})

t.test("a storm from elsewhere does not lock a name out where it logged in before", async (t) => {
  const clock = new FakeClock()
  const throttle = createAuthThrottle({ clock, maxFailures: 2, backoffMaxMs: 60_000 })
  throttle.succeeded('machine_004', '10.0.0.4')
  for (let i = 0; i < 5; i++) throttle.failed('machine_004', '10.0.0.66')
  t.ok(throttle.blockedFor('machine_004', '10.0.0.66') > 0, 'the attacker is blocked')
  t.equal(throttle.blockedFor('machine_004', '10.0.0.4'), 0, 'the dispenser is not')
})

t.test('inherited names are plain keys, and memory is bounded', async (t) => {
  const clock = new FakeClock()
  const throttle = createAuthThrottle({ clock, maxFailures: 1, backoffMaxMs: 60_000, maxKeys: 100 })
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    t.equal(throttle.blockedFor(name, undefined), 0)
    throttle.failed(name, undefined)
    t.equal(throttle.blockedFor(name, undefined), 1000, name)
  }
  for (let i = 0; i < 1000; i++) throttle.failed(`n${i}`, undefined)
  t.equal(throttle.blockedFor('constructor', undefined), 0, 'the oldest keys were dropped')
  t.equal(throttle.blockedFor('n999', undefined), 1000, 'the newest kept')
})

t.test('failures are forgotten after a quiet period', async (t) => {
  const clock = new FakeClock()
  const throttle = createAuthThrottle({ clock, maxFailures: 2, backoffMaxMs: 1000 })
  throttle.failed('x', undefined)
  await clock.advance(11 * 60_000)
  throttle.failed('x', undefined)
  t.equal(throttle.blockedFor('x', undefined), 0, 'two failures 11 minutes apart do not add up')
})

t.test('a token bucket allows the burst, then the rate', async (t) => {
  const clock = new FakeClock()
  const bucket = createTokenBucket(clock, 10, 3)
  t.same([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false])
  await clock.advance(100)
  t.same([bucket.take(), bucket.take()], [true, false], 'one token per 100 ms at 10/s')
  await clock.advance(60_000)
  t.same([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false], 'refills to the burst, not beyond')
  clock.jump(-3_600_000)
  t.equal(bucket.take(), false, 'a clock stepped back refills nothing')
})

t.test('repeated warnings: a few in full per interval, then one summary line with the count', async (t) => {
  const clock = new FakeClock()
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = []
  const log = { warn: (obj: Record<string, unknown>, msg: string) => lines.push({ obj, msg }) } as unknown as import('pino').Logger
  const noisy = createLogLimiter({ log, clock, intervalMs: 10_000, perInterval: 2, maxFieldLength: 8 })
  for (let i = 0; i < 200; i++) noisy.warn('connection refused', { clientId: 'x'.repeat(65_000), n: i })
  t.equal(lines.length, 2)
  t.equal(lines[0]!.obj.clientId, 'xxxxxxxx…(65000 chars)', 'long fields are cut')
  t.ok(JSON.stringify(lines).length < 200, 'two short lines, not 200 x 65 KB')
  await clock.advance(10_000)
  t.equal(lines.length, 3)
  t.match(lines[2], { obj: { suppressed: 198 }, msg: 'connection refused (repeated, not shown)' })
  noisy.warn('connection refused', { n: 'again' })
  t.equal(lines.length, 4, 'a new interval writes again')
  noisy.close()
  t.equal(clock.pendingTimers, 0, 'close stops the timer')
})

t.test('the scrypt queue takes turns by name: a storm on one name delays another by a run or two, not by the storm', async (t) => {
  const limit = createFairLimiter(1)
  const order: string[] = []
  let release: () => void = () => {}
  const task = (name: string) => () =>
    new Promise<void>((resolve) => {
      order.push(name)
      release = resolve
    })
  const runs = [] as Array<Promise<void>>
  for (let i = 0; i < 50; i++) runs.push(limit('storm', task('storm')))
  runs.push(limit('good', task('good')))
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r))
    release()
  }
  await new Promise((r) => setImmediate(r))
  // one storm run was running and one was first in line when the good login arrived
  t.same(order.slice(0, 3), ['storm', 'storm', 'good'], 'the good login ran third, not 51st')
  for (let i = 0; i < 60; i++) {
    release()
    await new Promise((r) => setImmediate(r))
  }
  await Promise.all(runs)
  t.equal(order.length, 51)
})
