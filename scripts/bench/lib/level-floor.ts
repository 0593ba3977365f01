/**
 * The storage floor of `npm run bench -- bookings`: what the hub's design costs with nothing but
 * LevelDB. The same operation mix (booking-mix.ts) against an in-memory conflict check and one
 * synced LevelDB batch per group of queued changes (session + audit entry, values the size the hub
 * writes), one batch in flight at a time, as the hub's writer does (src/scheduling/writer.ts).
 * No HTTP, no MQTT, no JSON parsing of requests: the hub cannot book faster than this on the same
 * disk, and the gap to it is what the doors and the hub's own work cost.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import type { Backend, Slot } from './booking-mix.js'

interface Live extends Slot {
  id: number
}

export async function levelFloorBackend(): Promise<Backend & { close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-level-floor-'))
  const db = new ClassicLevel<string, string>(dir)
  await db.open()
  const sessions = new Map<number, Live>()
  let nextId = 1
  let auditId = 1
  // ~ what the hub writes per change: the stored session and its audit entry (JSON text)
  const session = (s: Live, status: string) =>
    JSON.stringify({ record: { session_id: s.id, machine_id: [s.bay], status, start_time: s.start, end_time: s.start + s.duration, duration: s.duration, origin_node: 'kiosk1', created_at: s.start, updated_at: s.start, booked_by: 'token:kiosk1', channel: 'kiosk' }, submitted: 'x'.repeat(64) })
  const audit = (s: Live, kind: string) => JSON.stringify({ at: Date.now() / 1000, kind, actor: 'token:kiosk1', session_id: s.id, machine_id: [s.bay], before: null, after: { status: 'reserved', start_time: s.start, end_time: s.start + s.duration } })

  // The writer's shape: changes queued while a batch is synced go together in the next one.
  const queue: Array<{ ops: Array<{ type: 'put'; key: string; value: string }>; done: () => void; fail: (e: unknown) => void }> = []
  let writing = false
  const drain = async () => {
    writing = true
    while (queue.length > 0) {
      const jobs = queue.splice(0)
      try {
        await db.batch(jobs.flatMap((j) => j.ops), { sync: true })
        jobs.forEach((j) => j.done())
      } catch (error) {
        jobs.forEach((j) => j.fail(error))
      }
    }
    writing = false
  }
  const write = (s: Live, status: string, kind: string) =>
    new Promise<void>((done, fail) => {
      queue.push({ ops: [{ type: 'put', key: `s:${String(s.id).padStart(16, '0')}`, value: session(s, status) }, { type: 'put', key: `a:${String(auditId++).padStart(16, '0')}`, value: audit(s, kind) }], done, fail })
      if (!writing) void drain()
    })
  const overlaps = (slot: Slot, other: Live) => other.bay === slot.bay && other.start < slot.start + slot.duration && slot.start < other.start + other.duration

  return {
    async create(_c, slot) {
      for (const s of sessions.values()) if (overlaps(slot, s)) return undefined
      const s = { ...slot, id: nextId++ }
      sessions.set(s.id, s)
      await write(s, 'reserved', 'session.created')
      return s.id
    },
    async update(_c, id, slot) {
      const s = sessions.get(id)
      if (!s) throw new Error(`update of ${id}: no such session`)
      s.duration = slot.duration
      await write(s, 'reserved', 'session.updated')
    },
    async cancel(_c, id) {
      const s = sessions.get(id)
      if (!s) throw new Error(`cancel of ${id}: no such session`)
      sessions.delete(id)
      await write(s, 'cancelled', 'session.cancelled')
    },
    async close() {
      while (writing) await new Promise((resolve) => setImmediate(resolve))
      await db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
