/** The pure rollout plan (issue 16): batches, idle bays only, timeouts, the failure-rate stop. */
import t from 'tap'
import { planRollout } from '../../src/fleet/rollout.js'
import type { BayUpdate, Rollout } from '../../src/protocol/fleet.js'

const bay = (machine_id: number, state: BayUpdate['state'], started_at: number | null = null): BayUpdate => ({
  machine_id, state, from_version: '1.0.0', message: null, started_at, finished_at: null,
})
const rollout = (bays: BayUpdate[], over: Partial<Rollout> = {}): Rollout => ({
  id: 1, version: '1.1.0', state: 'running', batch_size: 2, max_failure_rate: 0.2, paused_reason: null, started_at: 0, started_by: 'system', bays, ...over,
})

t.test('starts at most batch_size idle bays; busy ones wait with the reason', async (t) => {
  const plan = planRollout(rollout([bay(1, 'queued'), bay(2, 'queued'), bay(3, 'queued'), bay(4, 'queued')]), (id) => (id === 1 ? 'in a session: updates after it ends' : undefined), 100, 300)
  t.same(plan.start, [2, 3])
  t.same(plan.wait, [{ machine_id: 1, message: 'in a session: updates after it ends' }])
  t.equal(plan.completed, false)
  const next = planRollout(rollout([bay(1, 'updating', 0), bay(2, 'updating', 90), bay(3, 'queued')]), () => undefined, 100, 50)
  t.same(next.timedOut, [1], 'a bay silent past the timeout fails')
  t.same(next.start, [3], 'its slot in the batch is free again')
})

t.test('a failure rate over the threshold pauses the rollout (after 3 finished)', async (t) => {
  const two = planRollout(rollout([bay(1, 'failed'), bay(2, 'failed'), bay(3, 'queued')]), () => undefined, 0, 300)
  t.equal(two.pause, undefined, 'two finished are too few to judge')
  t.same(two.start, [3])
  const plan = planRollout(rollout([bay(1, 'failed'), bay(2, 'updated'), bay(3, 'updated'), bay(4, 'updated'), bay(5, 'failed'), bay(6, 'queued')]), () => undefined, 0, 300)
  t.match(plan.pause, /failure rate 2\/5 is over 20 %/)
  t.same(plan.start, [], 'nothing starts once paused')
  const paused = planRollout(rollout([bay(1, 'queued')], { state: 'paused' }), () => undefined, 0, 300)
  t.same(paused.start, [], 'a paused rollout starts nothing')
  t.ok(planRollout(rollout([bay(1, 'updated'), bay(2, 'skipped')]), () => undefined, 0, 300).completed)
})
