/**
 * Builds and runs esp32/host/virtual_dispenser for tests: its stdout is one JSON event per
 * line (`{"event":"output","on":true,...}`); `waitFor` resolves on the first matching event.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { onJsonLines } from '../helpers/json-lines.js'

export const esp32Dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'esp32')

export function make(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('make', ['-C', esp32Dir, ...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
    })
  })
}

/**
 * Builds the virtual dispenser into `buildDir` and returns the binary's path. `maxOnSeconds`
 * builds it with a small device maximum (MAX_ON_SECONDS) instead of the default 4 h.
 */
export async function buildVirtualDispenser(buildDir: string, maxOnSeconds?: number): Promise<string> {
  const result = await make(['virtual', `BUILD=${buildDir}`, ...(maxOnSeconds === undefined ? [] : [`MAX_ON_SECONDS=${maxOnSeconds}`])])
  if (result.code !== 0) throw new Error(`make virtual failed\n${result.stdout}\n${result.stderr}`)
  return join(buildDir, 'virtual_dispenser')
}

export interface DispenserEvent {
  event: string
  machine_id?: number
  mono_ms?: number
  on?: boolean
  reason?: string
  session_id?: number
  [key: string]: unknown
}

export interface VirtualDispenser {
  child: ChildProcess
  events: DispenserEvent[]
  /** Resolves with the first event (already seen or future) after index `from` that matches. */
  waitFor(match: (e: DispenserEvent) => boolean, timeoutMs: number, from?: number): Promise<DispenserEvent>
  stop(): Promise<void>
}

export type VirtualOptions = {
  binary: string
  port: number
  host?: string
  /** the image's version (`firmware` in reports and announcements) */
  firmware?: string
} & (
  | { id: number; username: string; password: string }
  /** the generic image (issue 16): enrolls as `mac` unless `nvs` (its NVS file) already holds a bay */
  | { mac: string; enrollSecret: string; nvs: string }
)

export function startVirtualDispenser(o: VirtualOptions): VirtualDispenser {
  const who = 'mac' in o ? ['--mac', o.mac, '--enroll-secret', o.enrollSecret, '--nvs', o.nvs] : ['--id', String(o.id), '--username', o.username, '--password', o.password]
  const args = [...who, '--host', o.host ?? '127.0.0.1', '--port', String(o.port), ...(o.firmware ? ['--firmware', o.firmware] : [])]
  const child = spawn(o.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const events: DispenserEvent[] = []
  const waiters = new Set<() => void>()
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  onJsonLines(child.stdout!, (entry, line) => {
    events.push(entry ? (entry as DispenserEvent) : { event: 'unparsed', line })
    for (const wake of [...waiters]) wake()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const waitFor = (match: (e: DispenserEvent) => boolean, timeoutMs: number, from = 0) =>
    new Promise<DispenserEvent>((resolve, reject) => {
      const check = () => {
        const found = events.slice(from).find(match)
        if (!found) return false
        clearTimeout(timer)
        waiters.delete(check)
        resolve(found)
        return true
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no matching dispenser event in ${timeoutMs} ms; events: ${JSON.stringify(events)}; stderr: ${stderr}`))
      }, timeoutMs)
      if (!check()) waiters.add(check)
    })

  return {
    child,
    events,
    waitFor,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

/**
 * A fresh build directory under the OS temp dir, removed at teardown. Not t.testdir(): two
 * runs of the same test file in one checkout (a helper's run and the lead's) would share it.
 */
export async function buildDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'esp32-build-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Why the firmware tests cannot run here, or undefined when they can: they build the core with
 * g++ and make, and the virtual dispenser against libmosquitto (.ci/run installs all three).
 */
export function firmwareSkipReason(): string | undefined {
  const missing = [
    ...['g++', 'make'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0),
    ...(existsSync('/usr/include/mosquitto.h') ? [] : ['libmosquitto-dev']),
  ]
  return missing.length ? `skipped: ${missing.join(', ')} not installed (Debian packages; .ci/run installs them)` : undefined
}
