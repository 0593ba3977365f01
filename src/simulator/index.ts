/**
 * createSimulator: N virtual dispensers for the HUB_SIMULATE demo, tests and benchmarks.
 */
import type { Logger } from 'pino'
import { VirtualDispenser, type DispenserOptions, type Faults } from './dispenser.js'

export { VirtualDispenser, type Faults, type FaultMode, type DispenserState } from './dispenser.js'

export interface SimulatorOptions {
  url: string
  ids: readonly number[]
  /** MQTT username/secret per machine; undefined = anonymous */
  credentials?: (id: number) => { username: string; password: string } | undefined
  /** fault mode per machine (default none) */
  faults?: (id: number) => Faults | undefined
  log?: Logger
  keepalive?: number
  reportIntervalMs?: number
  minutesPerLevel?: number
}

export interface Simulator {
  dispensers: VirtualDispenser[]
  get(id: number): VirtualDispenser | undefined
  /** connects all; resolves when every dispenser has its first CONNACK */
  start(): Promise<void>
  stop(): Promise<void>
}

export function createSimulator(options: SimulatorOptions): Simulator {
  const dispensers = options.ids.map((id) => {
    const creds = options.credentials?.(id)
    const faults = options.faults?.(id)
    const opts: DispenserOptions = { id, url: options.url, ...(creds ?? {}) }
    if (faults) opts.faults = faults
    if (options.keepalive !== undefined) opts.keepalive = options.keepalive
    if (options.reportIntervalMs !== undefined) opts.reportIntervalMs = options.reportIntervalMs
    if (options.minutesPerLevel !== undefined) opts.minutesPerLevel = options.minutesPerLevel
    return new VirtualDispenser(opts)
  })
  const byId = new Map(dispensers.map((d) => [d.id, d]))
  return {
    dispensers,
    get: (id) => byId.get(id),
    async start() {
      await Promise.all(dispensers.map((d) => d.connect()))
      options.log?.info({ dispensers: dispensers.length }, 'simulated dispensers connected')
    },
    async stop() {
      await Promise.all(dispensers.map((d) => d.stop()))
    },
  }
}
