/**
 * Keeps a staff-confirmed time across a hub restart within the same boot (issue 15): the hub
 * restarts on a crash (systemd Restart=always) while the system clock may still be wrong. The
 * confirmation is stored with the kernel's boot id and the time since boot (CLOCK_BOOTTIME via
 * /proc/uptime: it never steps and counts across processes), so the restarted hub resumes the
 * same time; after a reboot the boot id differs and the stored confirmation is ignored.
 */
import { readFileSync } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'

export interface BootPort {
  /** /proc/sys/kernel/random/boot_id, null where there is none */
  bootId(): string | null
  /** ms since boot, from a clock that never steps; null where unknown */
  uptimeMs(): number | null
}

export const systemBoot: BootPort = {
  bootId() {
    try {
      return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null
    } catch {
      return null
    }
  },
  uptimeMs() {
    try {
      const seconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])
      return Number.isFinite(seconds) ? Math.round(seconds * 1000) : null
    } catch {
      return null
    }
  },
}

export interface StoredConfirmation {
  boot_id: string
  /** the confirmed time at `uptime_ms` */
  epoch_ms: number
  uptime_ms: number
  by: string
  confirmed_at: number
}

export interface ConfirmationStore {
  load(): StoredConfirmation | undefined
  save(c: StoredConfirmation): Promise<void>
  clear(): Promise<void>
}

const MAX_FILE = 4096

function parse(text: string): StoredConfirmation | undefined {
  try {
    const v = JSON.parse(text) as Partial<StoredConfirmation>
    const okString = (x: unknown, max: number) => typeof x === 'string' && x.length > 0 && x.length <= max
    const okNumber = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0
    if (okString(v.boot_id, 64) && okString(v.by, 128) && okNumber(v.epoch_ms) && okNumber(v.uptime_ms) && okNumber(v.confirmed_at)) return v as StoredConfirmation
  } catch {
    // a torn or foreign file is no confirmation
  }
  return undefined
}

export function createConfirmationStore(dataDir: string): ConfirmationStore {
  const path = join(dataDir, 'clock-confirmation.json')
  return {
    load() {
      try {
        const text = readFileSync(path, 'utf8')
        return text.length > MAX_FILE ? undefined : parse(text)
      } catch {
        return undefined
      }
    },
    async save(c) {
      // tmp + fsync + rename: a crash leaves the old file or the new one, never half of one
      const tmp = `${path}.tmp`
      const file = await open(tmp, 'w', 0o600)
      try {
        await file.writeFile(JSON.stringify(c))
        await file.sync()
      } finally {
        await file.close()
      }
      await rename(tmp, path)
    },
    async clear() {
      await rm(path, { force: true })
    },
  }
}
