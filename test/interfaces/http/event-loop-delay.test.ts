import t from 'tap'
import { createEventLoopDelay } from '../../../src/interfaces/http/event-loop-delay.js'

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms))
const block = (ms: number) => {
  const end = performance.now() + ms
  while (performance.now() < end);
}

t.test('each reading covers the window since the previous one', async (t) => {
  const delay = createEventLoopDelay()
  t.teardown(() => delay.stop())
  await tick(50)
  block(200) // the loop cannot turn for 200 ms
  await tick(50)
  const stalled = delay.read()
  t.ok(stalled.maxMs >= 150, `a 200 ms stall is seen (max ${stalled.maxMs} ms)`)
  t.ok(stalled.windowS > 0.2, 'the window spans the stall')
  await tick(100)
  const calm = delay.read()
  t.ok(calm.maxMs < stalled.maxMs, `the next window starts afresh (max ${calm.maxMs} ms)`)
})
