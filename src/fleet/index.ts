/**
 * createFleet (issue 16): adoption of new dispensers (enrollment.ts) and firmware updates
 * (firmware.ts, rollout-service.ts), over BrokerPort, with their state in the `fleet` sublevel.
 */
import type { Logger } from 'pino'
import type { AuditLog } from '../audit/index.js'
import type { Broker } from '../broker/index.js'
import type { Clock } from '../lib/clock.js'
import type { AdoptedDevice } from '../protocol/fleet.js'
import { createEnrollment, type Enrollment } from './enrollment.js'
import { createFleetStore, type FleetDb } from './store.js'
import { createFirmware, loadPublicKey, type Firmware } from './firmware.js'
import { createRollouts, type Rollouts } from './rollout-service.js'
import type { BusyReason } from './rollout.js'

export type { FleetErrorCode } from './enrollment.js'

export interface FleetDeps {
  broker: Pick<Broker, 'publish' | 'onMessage' | 'onClientUp' | 'onClientDown' | 'connectedClients' | 'disconnect'>
  db: FleetDb
  audit: Pick<AuditLog, 'append' | 'ops'> | undefined
  clock: Clock
  log: Logger
  machineIds: readonly number[]
  maxPending: number
  enrollSecret: string
  issueSecret(machineId: number, actor: string): Promise<string>
  dataDir: string
  firmwareMaxBytes: number
  /** HUB_FIRMWARE_PUBLIC_KEY as set */
  firmwarePublicKey: string | null
  updateTimeoutS: number
  /** why bay N can't update now (in a session, offline), else undefined */
  busy(id: number, nowS: number): BusyReason
  firmwareOf(id: number): string | null
  baseUrl(): string
}

export interface Fleet {
  enrollment: Enrollment
  firmware: Firmware
  rollouts: Rollouts
  devices(): AdoptedDevice[]
  start(): Promise<void>
  stop(): void
}

export function createFleet(deps: FleetDeps): Fleet {
  const store = createFleetStore(deps.db, deps.audit)
  const enrollment = createEnrollment(
    {
      broker: deps.broker,
      store,
      audit: deps.audit,
      clock: deps.clock,
      log: deps.log,
      machineIds: deps.machineIds,
      maxPending: deps.maxPending,
      issueSecret: deps.issueSecret,
    },
    deps.enrollSecret,
  )
  const nowS = () => deps.clock.now() / 1000
  const firmware = createFirmware({ dataDir: deps.dataDir, store, maxBytes: deps.firmwareMaxBytes, publicKey: loadPublicKey(deps.firmwarePublicKey), nowS })
  const rollouts = createRollouts({
    broker: deps.broker,
    store,
    clock: deps.clock,
    log: deps.log,
    machineIds: deps.machineIds,
    timeoutS: deps.updateTimeoutS,
    busy: deps.busy,
    firmwareOf: deps.firmwareOf,
    baseUrl: deps.baseUrl,
  })
  return {
    enrollment,
    firmware,
    rollouts,
    devices: () => store.devices(),
    async start() {
      await store.load()
      enrollment.start()
      rollouts.begin()
    },
    stop() {
      rollouts.stop()
      enrollment.stop()
    },
  }
}
