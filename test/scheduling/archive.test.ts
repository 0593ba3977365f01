/**
 * Archiving (issue 13): sessions ended more than HUB_ARCHIVE_AFTER_DAYS ago leave the live index
 * and sublevel for the archive in one synced batch; start-up does not load them; lookups by id
 * and history (reports) still see them; ids are never reused.
 */
import t from 'tap'
import { FakeClock } from '../helpers/fake-clock.js'
import { admin, buildWorld, kiosk, openDb } from './world.js'

const H = 3600
const DAY = 86_400

/** Keys of the live and the archive sublevels, read straight from LevelDB. */
async function rawKeys(dir: string) {
  const { db, store, archive } = openDb(dir)
  const live: string[] = []
  const archived: string[] = []
  for await (const key of store.keys()) if (!key.startsWith('~')) live.push(key)
  for await (const key of archive.keys()) archived.push(key)
  await db.close()
  return { live, archived }
}

t.test('ended sessions move to the archive; the live index keeps the rest; lookups and history still see them', async (t) => {
  const dir = t.testdir()
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 9, 0, 0))
  const env = { HUB_ARCHIVE_AFTER_DAYS: '30' }
  const first = await buildWorld(t, { dir, clock, env })
  const now = clock.nowSeconds()
  // 1 and 2: played and done; 3: cancelled; 4: a maintenance block; 5: booked 40 days ahead (stays live)
  await first.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: now + 600, duration: H }, kiosk)
  await first.scheduling.submit({ machine_id: [2, 3], status: 'reserved', start_time: now + 1200, duration: H }, kiosk)
  const c = await first.scheduling.submit({ machine_id: 4, status: 'reserved', start_time: now + 1800, duration: H }, kiosk)
  t.ok(c.ok)
  await first.scheduling.cancel(3, kiosk)
  await first.scheduling.submit({ machine_id: 5, status: 'maintenance', start_time: now + 600, duration: 2 * H }, admin)
  await first.scheduling.submit({ machine_id: 6, status: 'reserved', start_time: now + 40 * DAY, duration: H }, kiosk)
  await first.close()

  // 29 days after their end nothing moves; 31 days after, 1-4 do.
  await clock.jump((now + 29 * DAY) * 1000)
  const early = await buildWorld(t, { dir, clock, env })
  t.equal(await early.scheduling.archiveNow(), 0, 'nothing ended 30 days ago yet')
  await early.close()

  await clock.jump((now + 31 * DAY) * 1000)
  const second = await buildWorld(t, { dir, clock, env })
  // archiveNow shares the sweep start() began in the background, so it resolves once that is done
  await second.scheduling.archiveNow()
  t.equal(second.scheduling.get(1), undefined, 'out of the live index')
  t.same(second.scheduling.list().map((s) => s.session_id), [5], 'list() is live only: the future booking')
  t.equal((await second.scheduling.find(1))?.status, 'completed', 'found by id in the archive')
  t.equal((await second.scheduling.find(3))?.status, 'cancelled')
  t.equal((await second.scheduling.find(4))?.status, 'maintenance')
  t.equal((await second.scheduling.find(5))?.status, 'reserved', 'find reads live sessions too')
  t.equal(await second.scheduling.find(99), undefined)
  const history: number[] = []
  for await (const s of second.scheduling.history({ from: now, to: now + 41 * DAY })) history.push(s.session_id)
  t.same(history, [1, 4, 2, 3, 5], 'live and archived in start order (then id)')
  const created = await second.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: clock.nowSeconds() + 600, duration: H }, kiosk)
  t.equal(created.ok && created.value.session.session_id, 6, 'the allocator continues above archived ids')
  const ended = await second.scheduling.submit({ session_id: 1, machine_id: 1, status: 'cancelled' }, admin)
  t.equal(!ended.ok && ended.code, 'SESSION_NOT_FOUND', 'an archived session cannot be changed through the writer')
  await second.close()

  const keys = await rawKeys(dir)
  t.same(keys.live.map(Number), [5, 6], 'the live sublevel holds only what start-up needs')
  t.equal(keys.archived.filter((k) => k.startsWith('i:')).length, 4, 'four archived, each once')
  t.equal(keys.archived.filter((k) => k.startsWith('t:')).length, 4)
})

t.test('start-up does not load the archive; ids stay unique even when every session is archived', async (t) => {
  const dir = t.testdir()
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 9, 0, 0))
  const first = await buildWorld(t, { dir, clock })
  const now = clock.nowSeconds()
  for (let bay = 1; bay <= 10; bay++) await first.scheduling.submit({ machine_id: bay, status: 'reserved', start_time: now + 600, duration: H }, kiosk)
  await first.close()
  await clock.jump((now + 60 * DAY) * 1000)
  const second = await buildWorld(t, { dir, clock })
  await second.scheduling.archiveNow()
  await second.close()
  t.same((await rawKeys(dir)).live, [], 'all ten archived (default: 35 days)')

  const third = await buildWorld(t, { dir, clock })
  t.equal(third.scheduling.list().length, 0, 'nothing archived is loaded at start')
  const r = await third.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: clock.nowSeconds() + 600, duration: H }, kiosk)
  t.equal(r.ok && r.value.session.session_id, 11, 'id 11: never an archived id again')
  t.equal((await third.scheduling.find(10))?.machine_id[0], 10)
})

t.test('the daily sweep archives what ended meanwhile, without a restart', async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 9, 0, 0))
  const w = await buildWorld(t, { clock, env: { HUB_ARCHIVE_AFTER_DAYS: '1' } })
  const now = clock.nowSeconds()
  await w.scheduling.submit({ machine_id: 1, status: 'reserved', start_time: now + 600, duration: 1800 }, kiosk)
  // The ticker completes it; the sweep a day after start finds it ended less than a day ago; the next one moves it.
  for (let hour = 0; hour < 24 * 2 + 1; hour++) {
    await clock.advance(H * 1000)
    await w.scheduling.idle()
  }
  t.equal(w.scheduling.get(1), undefined, 'archived by the second daily sweep')
  t.equal((await w.scheduling.find(1))?.status, 'completed')
  t.same(w.changes.map((c) => c.change), ['created', 'activated', 'completed'], 'archiving is not a session change: no event')
})
