import t from 'tap'
import type { SessionRecord } from '../../src/protocol/messages.js'
import {
  checkBays,
  desiredStateFor,
  describeConflict,
  findConflict,
  nextTransition,
  normalizeStart,
  overlaps,
  phaseAt,
} from '../../src/scheduling/rules.js'

const T = 1_780_000_000 // an instant on the minute grid
const H = 3600

function rec(id: number, bays: number[], start: number, end: number, status: SessionRecord['status'] = 'reserved'): SessionRecord {
  return { session_id: id, machine_id: bays, status, start_time: start, end_time: end, duration: end - start, origin_node: 'kiosk_interface', created_at: T - H, updated_at: T - H }
}

t.test('conflict rule edges: touching, buffer, overlap', async (t) => {
  const existing = rec(1, [4], T, T + H)
  const cases: Array<[string, number, number, number, boolean]> = [
    // name, start, end, buffer s, conflicts
    ['touching after, no buffer', T + H, T + 2 * H, 0, false],
    ['touching before, no buffer', T - H, T, 0, false],
    ['one second overlap at the end', T + H - 1, T + 2 * H, 0, true],
    ['one second overlap at the start', T - H, T + 1, 0, true],
    ['inside', T + 600, T + 1200, 0, true],
    ['around', T - 60, T + H + 60, 0, true],
    ['identical', T, T + H, 0, true],
    ['gap equal to buffer after', T + H + 300, T + 2 * H, 300, false],
    ['gap one second short of buffer after', T + H + 299, T + 2 * H, 300, true],
    ['gap equal to buffer before', T - H, T - 300, 300, false],
    ['gap short of buffer before', T - H, T - 299, 300, true],
    ['touching with a buffer', T + H, T + 2 * H, 300, true],
  ]
  for (const [name, start, end, buffer, conflicts] of cases) {
    const cand = { machine_id: [4], start_time: start, end_time: end }
    t.equal(overlaps(cand, existing, buffer), conflicts, name)
    t.equal(overlaps(existing, cand, buffer), conflicts, `${name} (symmetric)`)
    t.equal(findConflict([existing], cand, buffer)?.session.session_id, conflicts ? 1 : undefined, `${name} via findConflict`)
  }
})

t.test('findConflict: other bays, cancelled sessions and the session itself do not conflict', async (t) => {
  const list = [rec(1, [1, 2], T, T + H), rec(2, [3], T, T + H, 'cancelled'), rec(3, [5], T, T + H, 'maintenance')]
  t.equal(findConflict(list, { machine_id: [3, 4], start_time: T, end_time: T + H }, 0), undefined, 'cancelled frees the bay')
  t.equal(findConflict(list, { session_id: 1, machine_id: [1, 2], start_time: T + 60, end_time: T + H }, 0), undefined, 'itself excluded')
  const group = findConflict(list, { machine_id: [2, 3], start_time: T + 60, end_time: T + 120 }, 0)
  t.same([group?.session.session_id, group?.bay], [1, 2], 'a group conflicts if any bay does (all-or-nothing)')
  const maintenance = findConflict(list, { machine_id: [5], start_time: T, end_time: T + 60 }, 0)
  t.equal(maintenance?.session.session_id, 3, 'maintenance blocks hold the bay')
  t.match(describeConflict(maintenance!, 'UTC'), /^bay 5 is blocked for maintenance by session 3 \(\d\d:\d\d-\d\d:\d\d\)$/)
  t.match(describeConflict(group!, 'UTC'), /^bay 2 is taken by session 1 /)
})

t.test('group bookings: adjacent bays of one row only', async (t) => {
  const known = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  const rows = [[1, 2, 3, 4, 5], [10, 9, 8, 7, 6]]
  const cases: Array<[number[], string, RegExp | number[]]> = [
    [[3], 'ok', [3]],
    [[2, 3], 'ok', [2, 3]],
    [[3, 2, 4], 'ok', [2, 3, 4]],
    [[7, 6], 'ok', [7, 6]],
    [[10, 9, 8], 'ok', [10, 9, 8]],
    [[1, 3], 'BAYS_NOT_ADJACENT', /bay 2 lies between/],
    [[5, 6], 'BAYS_NOT_ADJACENT', /different rows/],
    [[1, 11], 'MACHINE_UNKNOWN', /bay 11 is not served/],
    [[2, 2], 'SESSION_INVALID', /listed twice/],
  ]
  for (const [ids, code, expect] of cases) {
    const result = checkBays(ids, known, rows)
    if (code === 'ok') {
      t.ok(result.ok, `${ids} accepted`)
      if (result.ok) t.same(result.value, expect, `${ids} in row order`)
    } else {
      t.equal(result.ok ? 'ok' : result.code, code, `${ids} refused with ${code}`)
      if (!result.ok) {
        t.match(result.message, expect as RegExp)
        t.equal(result.field, 'machine_id')
      }
    }
  }
})

t.test('a start less than one slot in the past means now; older is refused', async (t) => {
  t.same(normalizeStart(T + 10, T, 300), { ok: true, value: T + 10 })
  t.same(normalizeStart(T, T, 300), { ok: true, value: T })
  t.same(normalizeStart(T - 299, T, 300), { ok: true, value: T })
  const late = normalizeStart(T - 300, T, 300)
  t.equal(late.ok, false)
  if (!late.ok) {
    t.equal(late.code, 'SESSION_INVALID')
    t.equal(late.field, 'start_time')
  }
})

t.test('phases and what the schedule requires of a machine', async (t) => {
  const s = rec(7, [2, 3], T, T + H)
  t.equal(phaseAt(s, T - 1), 'reserved')
  t.equal(phaseAt(s, T), 'active', 'active from the start second')
  t.equal(phaseAt(s, T + H - 0.001), 'active')
  t.equal(phaseAt(s, T + H), 'completed', 'completed at the end second')
  t.equal(phaseAt({ ...s, status: 'completed' }, T + 10), 'completed', 'an ended session never restarts')
  t.equal(phaseAt({ ...s, status: 'active' }, T - 100), 'active', 'a started session survives a clock step back')
  t.equal(phaseAt({ ...s, status: 'cancelled' }, T + 10), 'cancelled')

  t.equal(desiredStateFor(2, [s], T - 1), undefined)
  t.same(desiredStateFor(3, [s], T), { status: 'active', session_id: 7, scheduled_until: T + H, source: 'schedule', holder: 'session 7' })
  t.equal(desiredStateFor(4, [s], T), undefined, 'other bay')
  t.equal(desiredStateFor(2, [s], T + H), undefined, 'after the end')
  const block = rec(8, [4], T, T + 2 * H, 'maintenance')
  t.same(desiredStateFor(4, [s, block], T + 5), { status: 'maintenance', session_id: 8, scheduled_until: T + 2 * H, source: 'schedule', holder: 'session 8' })
})

t.test('nextTransition: the nearest start or end after now', async (t) => {
  const list = [rec(1, [1], T + 100, T + 200), rec(2, [2], T - 50, T + 150, 'active'), rec(3, [3], T - 10, T + 5, 'completed')]
  t.equal(nextTransition(list, T), T + 100)
  t.equal(nextTransition(list, T + 100), T + 150)
  t.equal(nextTransition(list, T + 150), T + 200)
  t.equal(nextTransition(list, T + 200), undefined)
})
