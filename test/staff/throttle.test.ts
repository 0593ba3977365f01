import t from 'tap'
import { createThrottle } from '../../src/staff/throttle.js'

const policy = { free: 3, baseMs: 1000, maxMs: 8000, forgetMs: 60_000, maxKeys: 4 }

t.test('free failures, then doubling waits up to the cap, measured from the last failure', async (t) => {
  const th = createThrottle(policy)
  for (let i = 0; i < 3; i++) {
    t.equal(th.waitMs('u:a', 0), 0, `failure ${i} is free`)
    th.fail('u:a', 0)
  }
  t.equal(th.waitMs('u:a', 0), 1000)
  t.equal(th.waitMs('u:a', 400), 600)
  t.equal(th.waitMs('u:a', 1000), 0)
  th.fail('u:a', 1000)
  t.equal(th.waitMs('u:a', 1000), 2000, 'doubles')
  for (let i = 0; i < 10; i++) th.fail('u:a', 5000)
  t.equal(th.waitMs('u:a', 5000), 8000, 'capped at maxMs')
  t.equal(th.waitMs('u:b', 5000), 0, 'another key is not delayed')
  th.succeed('u:a')
  t.equal(th.waitMs('u:a', 5000), 0, 'a success clears the key')
})

t.test('keys are forgotten after forgetMs, and the table is capped', async (t) => {
  const th = createThrottle(policy)
  for (let i = 0; i < 5; i++) th.fail('u:a', 0)
  t.ok(th.waitMs('u:a', 1) > 0)
  t.equal(th.waitMs('u:a', 60_001), 0, 'forgotten')
  for (let i = 0; i < 100; i++) th.fail(`u:spray${i}`, 100_000)
  t.equal(th.size(), 4, 'never more than maxKeys')
})
