/** A staff module on a real LevelDB in t.testdir(), with a FakeClock. */
import { join } from 'node:path'
import type { Test } from 'tap'
import { Level } from 'level'
import { pino } from 'pino'
import { createStaff, type SignIn, type Staff } from '../../src/staff/index.js'
import { FakeClock } from '../helpers/fake-clock.js'

export interface StaffWorld {
  staff: Staff
  clock: FakeClock
  dir: string
  db: Level<string, unknown>
  reopen(): Promise<Staff>
}

export async function buildStaffWorld(t: Test, options: { idleMinutes?: number; sessionHours?: number } = {}): Promise<StaffWorld> {
  const dir = t.testdir()
  const clock = new FakeClock(Date.UTC(2026, 0, 10, 10, 0, 0))
  let db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  const make = () =>
    createStaff({
      dataDir: dir,
      db: db.sublevel<string, SignIn>('staff-sign-ins', { valueEncoding: 'json' }),
      clock,
      log: pino({ level: 'silent' }),
      idleMinutes: options.idleMinutes ?? 30,
      sessionHours: options.sessionHours ?? 12,
    })
  const world: StaffWorld = {
    staff: make(),
    clock,
    dir,
    db,
    async reopen() {
      await db.close()
      db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
      world.db = db
      world.staff = make()
      await world.staff.start()
      return world.staff
    },
  }
  await world.staff.start()
  t.teardown(() => db.close())
  return world
}
