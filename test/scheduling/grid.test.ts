import t from 'tap'
import type { Schedule, ScheduleCell, SessionRecord } from '../../src/protocol/messages.js'
import { buildScheduleGrid } from '../../src/scheduling/grid.js'
import { settingCalendar } from '../../src/scheduling/hours.js'
import { dayBounds, instantOf, nextSlotBoundary } from '../../src/scheduling/tz.js'

const LONDON = 'Europe/London'
const utc = (iso: string) => Date.parse(iso) / 1000

function rec(id: number, bays: number[], start: number, minutes: number, status: SessionRecord['status'] = 'reserved'): SessionRecord {
  return { session_id: id, machine_id: bays, status, start_time: start, end_time: start + minutes * 60, duration: minutes * 60, origin_node: 'admin_portal', created_at: 0, updated_at: 0 }
}

const labels = (g: Schedule) => g.schedule.map((row) => row[0] as string)
const cell = (g: Schedule, row: number, col: number) => g.schedule[row]![col + 1] as ScheduleCell

t.test('wall times to instants across DST changes', async (t) => {
  t.equal(dayBounds(LONDON, '2026-03-29').to - dayBounds(LONDON, '2026-03-29').from, 23 * 3600)
  t.equal(dayBounds(LONDON, '2026-10-25').to - dayBounds(LONDON, '2026-10-25').from, 25 * 3600)
  t.equal(dayBounds(LONDON, '2026-06-01').from, utc('2026-05-31T23:00:00Z'))
  t.equal(instantOf(LONDON, { year: 2026, month: 3, day: 29, hour: 1, minute: 30 }), utc('2026-03-29T01:30:00Z'), 'a skipped time moves forward')
  t.equal(instantOf(LONDON, { year: 2026, month: 10, day: 25, hour: 1, minute: 30 }), utc('2026-10-25T00:30:00Z'), 'a repeated time is its first instant')
  t.equal(instantOf('Asia/Kathmandu', { year: 2026, month: 1, day: 1, hour: 0, minute: 0 }), utc('2025-12-31T18:15:00Z'))
  t.equal(nextSlotBoundary('Asia/Kathmandu', utc('2026-01-01T00:01:00Z'), 3600), utc('2026-01-01T00:15:00Z'), 'slots follow local wall time')
})

t.test('the 23-hour spring-forward day (Europe/London 2026-03-29)', async (t) => {
  const sessions = [rec(1, [2], utc('2026-03-29T00:30:00Z'), 60)] // 00:30 GMT -> 02:30 BST
  const g = buildScheduleGrid('2026-03-29', 5, settingCalendar(LONDON, null), [1, 2], sessions)
  t.equal(g.schedule.length, 23 * 12)
  const l = labels(g)
  t.equal(l[0], '00:00')
  t.equal(l.indexOf('01:00'), -1, 'the skipped hour has no rows')
  t.same(l.slice(l.indexOf('00:55'), l.indexOf('00:55') + 2), ['00:55', '02:00'])
  t.equal(l.at(-1), '23:55')
  const taken = g.schedule.filter((row) => (row[2] as ScheduleCell).session_id === 1).map((row) => row[0])
  t.same(taken, ['00:30', '00:35', '00:40', '00:45', '00:50', '00:55', '02:00', '02:05', '02:10', '02:15', '02:20', '02:25'])
  t.same(cell(g, 6, 0), { machine_id: 1, status: 'available' })
})

t.test('the 25-hour fall-back day (Europe/London 2026-10-25)', async (t) => {
  const first = rec(1, [1], utc('2026-10-25T00:30:00Z'), 30) // 01:30-02:00 BST (first 01:xx)
  const second = rec(2, [1], utc('2026-10-25T01:30:00Z'), 30, 'maintenance') // 01:30-02:00 GMT (second 01:xx)
  const g = buildScheduleGrid('2026-10-25', 5, settingCalendar(LONDON, null), [1], [first, second])
  t.equal(g.schedule.length, 25 * 12)
  const l = labels(g)
  const ones = l.map((x, i) => [x, i] as const).filter(([x]) => x === '01:30').map(([, i]) => i)
  t.equal(ones.length, 2, 'the repeated hour appears twice, labelled as the wall clock shows it')
  t.equal(ones[1]! - ones[0]!, 12, 'one hour apart')
  t.same(cell(g, ones[0]!, 0), { machine_id: 1, status: 'reserved', session_id: 1 })
  t.same(cell(g, ones[1]!, 0), { machine_id: 1, status: 'maintenance', session_id: 2 })
  t.same(cell(g, ones[0]! + 6, 0), { machine_id: 1, status: 'available' }, 'half an hour after the first 01:30 comes 01:00 again (GMT), free')
  t.equal(l[ones[0]! + 6], '01:00')
  t.equal(l.at(-1), '23:55')
})

t.test('opening hours, statuses and partial slots', async (t) => {
  const day = '2026-03-29'
  const s = [
    rec(1, [1, 2], instantOf(LONDON, { year: 2026, month: 3, day: 29, hour: 8, minute: 0 }), 60, 'active'),
    rec(2, [3], instantOf(LONDON, { year: 2026, month: 3, day: 29, hour: 8, minute: 2 }), 5), // spans two slots
    rec(3, [3], instantOf(LONDON, { year: 2026, month: 3, day: 29, hour: 9, minute: 0 }), 60, 'cancelled'),
    rec(4, [3], instantOf(LONDON, { year: 2026, month: 3, day: 29, hour: 10, minute: 0 }), 60, 'completed'),
  ]
  const g = buildScheduleGrid(day, 5, settingCalendar(LONDON, '08:00-22:00'), [1, 2, 3], s)
  t.equal(g.schedule.length, 14 * 12)
  t.same([labels(g)[0], labels(g).at(-1)], ['08:00', '21:55'])
  t.same(g.schedule[0], ['08:00', { machine_id: 1, status: 'active', session_id: 1 }, { machine_id: 2, status: 'active', session_id: 1 }, { machine_id: 3, status: 'reserved', session_id: 2 }])
  t.same(cell(g, 1, 2), { machine_id: 3, status: 'reserved', session_id: 2 }, 'a session covering part of a slot takes it')
  t.same(cell(g, 2, 2), { machine_id: 3, status: 'available' })
  t.same(cell(g, 12, 2), { machine_id: 3, status: 'available' }, 'a cancelled session frees its slots')
  t.same(cell(g, 24, 2), { machine_id: 3, status: 'reserved', session_id: 4 }, 'a completed session still shows taken')
  t.same({ date: g.date, slot_minutes: g.slot_minutes, machines: g.machines }, { date: day, slot_minutes: 5, machines: [1, 2, 3] })
})
