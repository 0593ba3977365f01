/**
 * The fleet's durable state in the hub's `fleet` sublevel: adopted devices (MAC -> bay), bays
 * (bay -> MAC), firmware images (metadata; the bytes are files), and rollouts. Loaded once at
 * start, kept in memory, written with `sync: true` together with the audit entries of the change
 * (src/audit `ops(drafts)`): one batch, so no change lacks its entry and no entry its change.
 * Writes go one at a time, in order.
 */
import type { AuditLog, AuditOp } from '../audit/index.js'
import type { AuditDraft } from '../protocol/audit.js'
import type { AdoptedDevice, FirmwareImage, Rollout } from '../protocol/fleet.js'

type Op = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string }

/** The part of a level sublevel (json values) the store uses. */
export interface FleetDb {
  batch(operations: Array<Op | AuditOp>, options: { sync: boolean }): Promise<void>
  iterator(): AsyncIterable<[string, unknown]>
}

/** Stored firmware: the public metadata plus the download token (never listed). */
export interface StoredImage extends FirmwareImage {
  token: string
}

const deviceKey = (mac: string) => `device:${mac}`
const bayKey = (id: number) => `bay:${String(id).padStart(6, '0')}`
const imageKey = (version: string) => `image:${version}`
const rolloutKey = (id: number) => `rollout:${String(id).padStart(9, '0')}`

export interface FleetChange {
  devices?: AdoptedDevice[]
  removeDevices?: string[]
  images?: StoredImage[]
  rollouts?: Rollout[]
  audit?: AuditDraft[]
}

export interface FleetStore {
  load(): Promise<void>
  devices(): AdoptedDevice[]
  deviceOfBay(id: number): AdoptedDevice | undefined
  images(): StoredImage[]
  image(version: string): StoredImage | undefined
  imageByToken(token: string): StoredImage | undefined
  rollouts(): Rollout[]
  /** durable before it resolves; memory follows the write */
  write(change: FleetChange): Promise<void>
}

export function createFleetStore(db: FleetDb, audit: Pick<AuditLog, 'ops'> | undefined): FleetStore {
  const devices = new Map<string, AdoptedDevice>()
  const bays = new Map<number, string>()
  const images = new Map<string, StoredImage>()
  const rollouts = new Map<number, Rollout>()
  let tail: Promise<void> = Promise.resolve()

  const apply = (c: FleetChange) => {
    for (const mac of c.removeDevices ?? []) {
      const d = devices.get(mac)
      if (d && bays.get(d.machine_id) === mac) bays.delete(d.machine_id)
      devices.delete(mac)
    }
    for (const d of c.devices ?? []) {
      devices.set(d.mac, d)
      bays.set(d.machine_id, d.mac)
    }
    for (const i of c.images ?? []) images.set(i.version, i)
    for (const r of c.rollouts ?? []) rollouts.set(r.id, r)
  }

  const opsOf = (c: FleetChange): Array<Op | AuditOp> => {
    const ops: Array<Op | AuditOp> = []
    for (const mac of c.removeDevices ?? []) {
      ops.push({ type: 'del', key: deviceKey(mac) })
      const d = devices.get(mac)
      if (d && bays.get(d.machine_id) === mac && !(c.devices ?? []).some((n) => n.machine_id === d.machine_id)) ops.push({ type: 'del', key: bayKey(d.machine_id) })
    }
    for (const d of c.devices ?? []) ops.push({ type: 'put', key: deviceKey(d.mac), value: d }, { type: 'put', key: bayKey(d.machine_id), value: d.mac })
    for (const i of c.images ?? []) ops.push({ type: 'put', key: imageKey(i.version), value: i })
    for (const r of c.rollouts ?? []) ops.push({ type: 'put', key: rolloutKey(r.id), value: r })
    if (audit && c.audit?.length) ops.push(...audit.ops(c.audit))
    return ops
  }

  return {
    async load() {
      for await (const [key, value] of db.iterator()) {
        if (key.startsWith('device:')) devices.set((value as AdoptedDevice).mac, value as AdoptedDevice)
        else if (key.startsWith('bay:')) bays.set(Number(key.slice(4)), value as string)
        else if (key.startsWith('image:')) images.set((value as StoredImage).version, value as StoredImage)
        else if (key.startsWith('rollout:')) rollouts.set((value as Rollout).id, value as Rollout)
      }
    },
    devices: () => [...devices.values()].sort((a, b) => a.machine_id - b.machine_id),
    deviceOfBay(id) {
      const mac = bays.get(id)
      return mac === undefined ? undefined : devices.get(mac)
    },
    images: () => [...images.values()].sort((a, b) => a.uploaded_at - b.uploaded_at),
    image: (version) => images.get(version),
    imageByToken: (token) => [...images.values()].find((i) => i.token === token),
    rollouts: () => [...rollouts.values()].sort((a, b) => a.id - b.id),
    write(change) {
      const run = tail.then(async () => {
        const ops = opsOf(change)
        if (ops.length > 0) await db.batch(ops, { sync: true })
        apply(change)
      })
      tail = run.catch(() => undefined)
      return run
    },
  }
}
