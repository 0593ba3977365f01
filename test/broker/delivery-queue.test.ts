import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// Reproduces the crash that killed the hub at a 1,000-bay changeover ("RangeError: Maximum call
// stack size exceeded", fixed by building the broker with `concurrency: 0`, src/broker/index.ts).
//
// The recursion, in node_modules: with Aedes' default `concurrency: 100`, mqemitter lets 100
// messages be in flight and queues the rest; each one released shifts the next off the queue
// (mqemitter.js `released` -> `_do`). A message no client subscribes to has no delivery to wait
// for: fastparallel calls its callback and mqemitter's `released` synchronously, which takes the
// next one, and so on. At a changeover the controls to every bay leave in one tick (100 in flight,
// the rest queued); each dispenser answers its control with a Confirmation and a Report on
// external/handler, which no client subscribes to (the hub reads them from Aedes' `publish`
// event), so they queue behind the controls and drain as one recursion about 2 x (bays - 100)
// deep. With the old setting this test's child dies of that RangeError before the controls are
// all confirmed.
//
// The scenario is the real one (the hub's createBroker on port 0 with LevelDB in a test dir, raw
// clean-session MQTT dispensers speaking DESIGN §4, one QoS 1 control per bay in one tick), scaled
// down to stay fast: 600 bays on a 250 KB stack instead of 1,000 bays on Node's ~984 KB, whose
// handlers at the top of the recursion (and the admin-feed publishes it adds) are deeper. Measured
// with `concurrency: 100`: 600 bays overflow on 350 KB and pass on 450 KB (1,000 bays: overflow
// on 600 KB, pass on 800 KB); with `concurrency: 0` 1,000 bays pass on 100 KB.
const BAYS = 600
const STACK_KB = 250
const scenario = fileURLToPath(new URL('./delivery-queue-scenario.ts', import.meta.url))

t.test(`controls to ${BAYS} clean-session dispensers sent in one tick are all delivered and confirmed, and the broker survives their answers`, async (t) => {
  const child = spawn(process.execPath, [`--stack-size=${STACK_KB}`, '--import', 'tsx', scenario, t.testdir(), String(BAYS)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  const overflow = /Maximum call stack size exceeded/.test(stderr)
  t.notOk(overflow, 'no stack overflow', { stderr: stderr.split('\n').slice(0, 12).join('\n') })
  t.equal(code, 0, 'the broker process exits normally', { stderr: stderr.slice(0, 2000) })
  const line = stdout.trim().split('\n').at(-1) ?? ''
  const result: unknown = line.startsWith('{') ? JSON.parse(line) : null
  t.same(result, { bays: BAYS, controlled: BAYS, confirmed: BAYS, published: BAYS }, 'every control delivered once, every Confirmation read, every publish completed')
})
