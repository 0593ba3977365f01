/** Which machines this hub serves (HUB_MACHINES); every id from outside is checked here first. */
import { err, ok, type Result } from '../lib/result.js'

export interface Registry {
  readonly ids: readonly number[]
  has(id: number): boolean
  /** ok(id) when served, else MACHINE_UNKNOWN with a message naming the id */
  check(id: number): Result<number, 'MACHINE_UNKNOWN'>
}

export function createRegistry(ids: readonly number[]): Registry {
  const known = new Set(ids)
  return {
    ids,
    has: (id) => known.has(id),
    check: (id) =>
      known.has(id) ? ok(id) : err('MACHINE_UNKNOWN', `machine_id: machine ${id} is not served by this hub (HUB_MACHINES)`, 'machine_id'),
  }
}
