/**
 * The in-memory index (src/scheduling/session-index.ts): a bay's open sessions (what
 * desiredStateFor reads at every reconcile and tick, issue 17) are always the open ones of all its
 * sessions, through creates, status changes, moves between bays and archiving.
 */
import t from 'tap'
import type { SessionRecord } from '../../src/protocol/messages.js'
import { desiredStateFor } from '../../src/scheduling/rules.js'
import { createSessionIndex } from '../../src/scheduling/session-index.js'

const STATUSES = ['held', 'reserved', 'active', 'maintenance', 'completed', 'cancelled'] as const
const OPEN = new Set<string>(['held', 'reserved', 'active', 'maintenance'])

function rng(seed: number) {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32)
}

t.test('openOn(bay) is the open part of the bay\'s sessions after any sequence of changes', async (t) => {
  const random = rng(17)
  const index = createSessionIndex()
  const bays = [1, 2, 3, 4, 5, 6]
  const base = 1_780_000_000
  let mismatches = 0
  for (let step = 0; step < 3000; step++) {
    const id = 1 + Math.floor(random() * 200)
    if (random() < 0.1) {
      index.remove(id)
    } else {
      const first = bays[Math.floor(random() * (bays.length - 1))]!
      const start = base + Math.floor(random() * 40) * 1800
      const record = {
        session_id: id,
        machine_id: random() < 0.2 ? [first, first + 1] : [first],
        status: STATUSES[Math.floor(random() * STATUSES.length)]!,
        start_time: start,
        end_time: start + 3600,
        duration: 3600,
        origin_node: 'kiosk_interface',
        created_at: base,
        updated_at: base,
      } as SessionRecord
      index.put({ record, submitted: null })
    }
    for (const bay of bays) {
      const expected = index.sessionsOn([bay]).filter((r) => OPEN.has(r.status)).map((r) => r.session_id).sort((a, b) => a - b)
      const actual = index.openOn(bay).map((r) => r.session_id).sort((a, b) => a - b)
      if (expected.join() !== actual.join()) mismatches++
      const at = base + Math.floor(random() * 40) * 1800 + 60
      if (JSON.stringify(desiredStateFor(bay, index.openOn(bay), at)) !== JSON.stringify(desiredStateFor(bay, index.sessionsOn([bay]), at))) mismatches++
    }
  }
  t.equal(mismatches, 0, 'the same sessions, and the same desired state, after 3,000 random changes')
  t.ok(bays.some((bay) => index.openOn(bay).length > 0), 'open sessions remain to compare')
})
