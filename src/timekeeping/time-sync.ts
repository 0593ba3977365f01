/**
 * Is the system clock synchronised? Asked of the time-sync service the Pi runs (issue 15): a
 * Raspberry Pi 4 has no RTC, so after a power cut its clock is what fake-hwclock saved, possibly
 * hours off, until a time server answers. The port is small so tests give a fake state.
 *
 * Asked in this order, the first that answers wins:
 * 1. `chronyc -n tracking`: "Leap status : Normal" is synchronised, "Not synchronised" is not.
 * 2. `timedatectl show -p NTPSynchronized --value`: the kernel's NTP flag (set by timesyncd).
 * 3. /run/systemd/timesync/synchronized: timesyncd creates it once it has synchronised.
 * Nothing answered (a container, a laptop without systemd): synchronised is null, "cannot tell".
 */
import { execFile } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import type { TimeSyncService } from '../protocol/clock.js'

export interface TimeSyncState {
  /** null: no service could be asked */
  synchronised: boolean | null
  service: TimeSyncService
  /** what was seen, for the log and the health route */
  detail: string
}

export interface TimeSyncPort {
  read(): Promise<TimeSyncState>
}

/** Runs a command; resolves with its stdout, or undefined when it is missing, fails or times out. */
export type CommandRunner = (file: string, args: string[]) => Promise<string | undefined>

const COMMAND_TIMEOUT_MS = 3000
const MAX_OUTPUT = 64 * 1024

/**
 * Is `file` a program on PATH (or, with a slash, that path)? A missing command is known without a
 * fork (issue 17, start-up: Raspberry Pi OS has timesyncd, not chrony, so `chronyc` is missing on
 * most hubs, and forking the hub's process costs it a few ms at every start and every check).
 */
// (PATH unset: where execvp looks then, glibc's default)
function installed(file: string, path = process.env.PATH ?? '/bin:/usr/bin'): boolean {
  const candidates = file.includes('/') ? [file] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, file))
  return candidates.some((candidate) => {
    try {
      accessSync(candidate, constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

export const runCommand: CommandRunner = (file, args) =>
  new Promise((resolve) => {
    if (!installed(file)) return resolve(undefined)
    execFile(file, args, { timeout: COMMAND_TIMEOUT_MS, maxBuffer: MAX_OUTPUT, env: { ...process.env, LC_ALL: 'C' } }, (error, stdout) =>
      resolve(error ? undefined : String(stdout)),
    )
  })

export const TIMESYNC_FLAG = '/run/systemd/timesync/synchronized'

export function parseChronyTracking(output: string): TimeSyncState | undefined {
  const leap = /^Leap status\s*:\s*(.+)$/m.exec(output)?.[1]?.trim()
  if (leap === undefined) return undefined
  const offset = /^System time\s*:\s*(.+)$/m.exec(output)?.[1]?.trim()
  const synchronised = leap !== 'Not synchronised'
  return { synchronised, service: 'chrony', detail: `chrony: leap status ${leap}${offset ? `, system time ${offset}` : ''}` }
}

export function parseTimedatectl(output: string): TimeSyncState | undefined {
  const value = output.trim()
  if (value !== 'yes' && value !== 'no') return undefined
  return { synchronised: value === 'yes', service: 'timesyncd', detail: `timedatectl: NTPSynchronized=${value}` }
}

export function createSystemTimeSync(deps: { run?: CommandRunner; exists?: (path: string) => boolean } = {}): TimeSyncPort {
  const run = deps.run ?? runCommand
  const exists = deps.exists ?? existsSync
  return {
    async read() {
      const chrony = await run('chronyc', ['-n', 'tracking'])
      const fromChrony = chrony === undefined ? undefined : parseChronyTracking(chrony)
      if (fromChrony) return fromChrony
      const timedatectl = await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'])
      const fromTimedatectl = timedatectl === undefined ? undefined : parseTimedatectl(timedatectl)
      if (fromTimedatectl) return fromTimedatectl
      if (exists(TIMESYNC_FLAG)) return { synchronised: true, service: 'timesyncd', detail: `${TIMESYNC_FLAG} exists` }
      if (exists('/run/systemd/timesync')) return { synchronised: false, service: 'timesyncd', detail: `timesyncd runs but ${TIMESYNC_FLAG} is missing` }
      return { synchronised: null, service: null, detail: 'no time-sync service answered (chronyc, timedatectl)' }
    },
  }
}
