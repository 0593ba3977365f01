/**
 * The booking operation mix both sides of `npm run bench -- bookings` run (hub and PostgreSQL):
 * each client, in a loop waiting for every answer, picks from a seeded generator
 *   50 % create that fits (a fresh bay-hour nobody holds),
 *   20 % create that conflicts (overlaps one of its own live sessions; must be refused),
 *   15 % update (its own session's duration changes, staying inside its hour),
 *   15 % cancel (one of its own live sessions).
 * The outcome of every operation is known in advance whatever the interleaving, so a backend that
 * refuses a fitting booking or accepts a conflicting one fails the run.
 */
import { seededRandom } from '../../../test/helpers/seeded-random.js'

export interface Slot {
  bay: number
  start: number
  duration: number
}

export interface Backend {
  /** the new session's id, or undefined when refused for a conflict */
  create(client: number, slot: Slot): Promise<number | undefined>
  /** `slot` is the session as it will be (MQTT resends the whole Session) */
  update(client: number, id: number, slot: Slot): Promise<void>
  cancel(client: number, id: number, slot: Slot): Promise<void>
}

export interface MixOptions {
  ops: number
  clients: number
  bays: number
  /** epoch s of the first bay-hour (whole hour, in the future) */
  base: number
  seed: number
}

export interface MixResult {
  ops: number
  perSecond: number
  p50Ms: number
  p99Ms: number
  created: number
  refused: number
  updated: number
  cancelled: number
}

const HOUR = 3600
const DURATION = 3000

export async function runMix(backend: Backend, o: MixOptions): Promise<MixResult & { latencies: number[] }> {
  const latencies: number[] = []
  const counts = { created: 0, refused: 0, updated: 0, cancelled: 0 }
  let nextCell = 0
  const freshSlot = (): Slot => {
    const cell = nextCell++
    return { bay: 1 + (cell % o.bays), start: o.base + Math.floor(cell / o.bays) * HOUR, duration: DURATION }
  }
  const perClient = Math.ceil(o.ops / o.clients)
  const client = async (c: number) => {
    const random = seededRandom(o.seed * 1000 + c)
    const live: Array<Slot & { id: number }> = []
    for (let i = 0; i < perClient; i++) {
      const roll = random()
      const pick = () => Math.floor(random() * live.length)
      const t0 = performance.now()
      if (roll < 0.5 || live.length === 0) {
        const slot = freshSlot()
        const id = await backend.create(c, slot)
        if (id === undefined) throw new Error(`a booking that fits was refused: bay ${slot.bay} at ${slot.start}`)
        live.push({ ...slot, id })
        counts.created++
      } else if (roll < 0.7) {
        const own = live[pick()]!
        const id = await backend.create(c, { bay: own.bay, start: own.start + 600, duration: 1800 })
        if (id !== undefined) throw new Error(`a booking over session ${own.id} (bay ${own.bay}) was accepted as ${id}`)
        counts.refused++
      } else if (roll < 0.85) {
        const own = live[pick()]!
        own.duration = own.duration === DURATION ? 2400 : DURATION
        await backend.update(c, own.id, own)
        counts.updated++
      } else {
        const [own] = live.splice(pick(), 1)
        await backend.cancel(c, own!.id, own!)
        counts.cancelled++
      }
      latencies.push(performance.now() - t0)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: o.clients }, (_, c) => client(c)))
  const elapsedS = (performance.now() - started) / 1000
  const ops = perClient * o.clients
  return { ops, perSecond: Math.round(ops / elapsedS), p50Ms: NaN, p99Ms: NaN, ...counts, latencies }
}
