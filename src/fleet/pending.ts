/**
 * The devices waiting for a bay (issue 16): what each announced, bounded so that a flood of
 * made-up MACs cannot grow the hub's memory. Pure; times are epoch seconds from the caller.
 */
import type { EnrollAnnouncement, PendingDevice } from '../protocol/fleet.js'

export interface PendingList {
  /** records an announcement; false when the list is full and `mac` is new (refused) */
  announce(a: EnrollAnnouncement, nowS: number): boolean
  get(mac: string): PendingDevice | undefined
  /** replaces the entry's fields (identify, assigning) */
  update(mac: string, change: Partial<PendingDevice>): PendingDevice | undefined
  remove(mac: string): void
  /** the entry assigned to `machineId` and waiting for it to log in, if any */
  assigningTo(machineId: number): PendingDevice | undefined
  list(): PendingDevice[]
  clear(): void
  size(): number
}

export function createPendingList(max: number): PendingList {
  const byMac = new Map<string, PendingDevice>()
  return {
    announce(a, nowS) {
      const known = byMac.get(a.mac)
      if (!known && byMac.size >= max) return false
      byMac.set(a.mac, {
        mac: a.mac,
        firmware: a.firmware,
        ip_address: a.ip_address ?? known?.ip_address ?? null,
        rssi: a.rssi ?? known?.rssi ?? null,
        first_seen: known?.first_seen ?? nowS,
        last_seen: nowS,
        state: known?.state ?? 'waiting',
        machine_id: known?.machine_id ?? null,
        identify_until: known?.identify_until ?? null,
      })
      return true
    },
    get: (mac) => byMac.get(mac),
    update(mac, change) {
      const known = byMac.get(mac)
      if (!known) return undefined
      const next = { ...known, ...change, mac }
      byMac.set(mac, next)
      return next
    },
    remove: (mac) => void byMac.delete(mac),
    assigningTo: (machineId) => [...byMac.values()].find((d) => d.state === 'assigning' && d.machine_id === machineId),
    list: () => [...byMac.values()].sort((a, b) => a.first_seen - b.first_seen || a.mac.localeCompare(b.mac)),
    clear: () => byMac.clear(),
    size: () => byMac.size,
  }
}
