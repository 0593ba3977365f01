/**
 * Adoption (issue 16): the enrollment window, the devices announcing themselves on
 * external/enroll/{mac}, identify (status LED, never the motor) and assign (a per-device secret
 * in credentials.json, sent on the device's enrollment topic; it logs in again as machine_N).
 * Talks to dispensers only through BrokerPort; every step is audited.
 */
import { timingSafeEqual, createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { Compile } from 'typebox/compile'
import type { BrokerPort, EnrollmentGate } from '../broker/index.js'
import type { AuditLog } from '../audit/index.js'
import type { Clock } from '../lib/clock.js'
import { err, ok, type Result } from '../lib/result.js'
import { actorLabel, SYSTEM, type Actor } from '../protocol/actor.js'
import type { AuditDraft } from '../protocol/audit.js'
import { parseJsonObject } from '../protocol/codec.js'
import { EnrollAnnouncement, MAX_ANNOUNCEMENT_BYTES, type EnrollAssign, type EnrollIdentify, type EnrollmentStatus, type PendingDevice } from '../protocol/fleet.js'
import { enrollTopic, isMac, macFromEnrollTopic, machineNodeName, Topics } from '../protocol/topics.js'
import { formatValidationError } from '../protocol/validation.js'
import { createPendingList } from './pending.js'
import type { FleetStore } from './store.js'
import { createEnrollmentWindow } from './window.js'

export type FleetErrorCode = 'DEVICE_UNKNOWN' | 'ENROLLMENT_CLOSED' | 'MACHINE_UNKNOWN' | 'FLEET_INVALID' | 'FIRMWARE_UNKNOWN' | 'FIRMWARE_INVALID' | 'ROLLOUT_CONFLICT' | 'ROLLOUT_UNKNOWN'

export interface EnrollmentDeps {
  broker: BrokerPort & { disconnect(match: (identity: import('../broker/index.js').ClientIdentity) => boolean): number }
  store: FleetStore
  audit: Pick<AuditLog, 'append'> | undefined
  clock: Clock
  log: Logger
  machineIds: readonly number[]
  maxPending: number
  /** a fresh secret for bay N, written to credentials.json (broker/credentials.ts issueMachineSecret) */
  issueSecret(machineId: number, actor: string): Promise<string>
}

export interface Enrollment {
  gate: EnrollmentGate
  status(): EnrollmentStatus
  open(minutes: number, by: Actor): Promise<EnrollmentStatus>
  close(by: Actor): Promise<EnrollmentStatus>
  identify(mac: string, seconds: number, by: Actor): Promise<Result<PendingDevice, FleetErrorCode>>
  assign(mac: string, machineId: number, by: Actor): Promise<Result<PendingDevice, FleetErrorCode>>
  start(): void
  stop(): void
}

const checkAnnouncement = Compile(EnrollAnnouncement)
const digest = (text: string) => createHash('sha256').update(text).digest()

export function createEnrollment(deps: EnrollmentDeps, secret: string): Enrollment {
  const { broker, store, clock, log, maxPending } = deps
  const served = new Set(deps.machineIds)
  const pending = createPendingList(maxPending)
  const nowS = () => clock.now() / 1000
  const offs: Array<() => void> = []
  let refusedFull = 0

  const audit = async (drafts: AuditDraft[]) => {
    if (deps.audit) await deps.audit.append(drafts)
  }
  const draft = (by: Actor, kind: AuditDraft['kind'], rest: Partial<AuditDraft> = {}): AuditDraft => ({
    at: nowS(),
    actor: actorLabel(by),
    kind,
    before: null,
    after: null,
    ...rest,
  })

  /** Shut: nobody may stay on the enrollment login, and nothing waits for a bay. */
  const shut = () => {
    const dropped = broker.disconnect((identity) => identity.kind === 'enrollee')
    for (const d of pending.list()) if (d.state === 'waiting') pending.remove(d.mac)
    log.info({ dropped }, 'enrollment window shut')
  }
  const window = createEnrollmentWindow(clock, () => {
    shut()
    audit([draft(SYSTEM, 'enrollment.closed', { reason: 'the window ran out' })]).catch((error: unknown) => log.error({ err: error }, 'audit failed'))
  })

  const status = (): EnrollmentStatus => {
    const until = window.until()
    return { open: until !== null, until: until === null ? null : until / 1000, pending: pending.list() }
  }

  const onAnnouncement = (topic: string, payload: Buffer, clientKind: string | undefined, clientMac: string | undefined) => {
    const mac = macFromEnrollTopic(topic)
    // the ACL admits only the enrollee of this MAC here; the hub's own messages come back too
    if (mac === undefined || clientKind !== 'enrollee' || clientMac !== mac) return
    const parsed = parseJsonObject(payload, MAX_ANNOUNCEMENT_BYTES)
    if (!parsed.ok) return log.debug({ mac, reason: parsed.message }, 'enrollment announcement refused')
    if (!checkAnnouncement.Check(parsed.value)) {
      const { message } = formatValidationError([...checkAnnouncement.Errors(parsed.value)])
      return log.debug({ mac, reason: message }, 'enrollment announcement refused')
    }
    const a = parsed.value as EnrollAnnouncement
    if (a.mac !== mac) return log.debug({ mac, claimed: a.mac }, 'enrollment announcement names another MAC')
    if (!pending.announce(a, nowS())) {
      // bounded: a flood of made-up MACs is refused, counted, and logged once per 100
      if (refusedFull++ % 100 === 0) log.warn({ mac, max: maxPending, refused: refusedFull }, 'pending device list is full; announcement dropped')
    }
  }

  const send = (mac: string, body: EnrollIdentify | EnrollAssign) => broker.publish(enrollTopic(mac), body, { qos: 1 })

  return {
    gate: {
      isOpen: () => window.isOpen(),
      verify: (given) => timingSafeEqual(digest(given), digest(secret)),
    },
    status,
    async open(minutes, by) {
      const until = window.open(minutes)
      await audit([draft(by, 'enrollment.opened', { after: { until: until / 1000, minutes } })])
      return status()
    },
    async close(by) {
      const wasOpen = window.isOpen()
      window.close()
      shut()
      if (wasOpen) await audit([draft(by, 'enrollment.closed', {})])
      return status()
    },
    async identify(mac, seconds, by) {
      if (!isMac(mac as unknown)) return err('FLEET_INVALID', `mac: "${mac.slice(0, 32)}" is not a MAC (12 lowercase hex digits)`, 'mac')
      const device = pending.get(mac)
      if (!device) return err('DEVICE_UNKNOWN', `device ${mac} is not waiting for a bay`)
      if (!window.isOpen()) return err('ENROLLMENT_CLOSED', 'enrollment is closed: open it first')
      await send(mac, { command: 'identify', seconds })
      await audit([draft(by, 'device.identified', { target: mac, after: { seconds } })])
      return ok(pending.update(mac, { identify_until: nowS() + seconds })!)
    },
    async assign(mac, machineId, by) {
      if (!isMac(mac as unknown)) return err('FLEET_INVALID', `mac: "${mac.slice(0, 32)}" is not a MAC (12 lowercase hex digits)`, 'mac')
      if (!served.has(machineId)) return err('MACHINE_UNKNOWN', `machine_id: bay ${machineId} is not served by this hub (HUB_MACHINES)`, 'machine_id')
      const device = pending.get(mac)
      if (!device) return err('DEVICE_UNKNOWN', `device ${mac} is not waiting for a bay`)
      if (!window.isOpen()) return err('ENROLLMENT_CLOSED', 'enrollment is closed: open it first')
      // Another device may be waiting to log in as this bay: the later assignment wins.
      const rival = pending.assigningTo(machineId)
      if (rival && rival.mac !== mac) pending.update(rival.mac, { state: 'waiting', machine_id: null })
      const previous = store.deviceOfBay(machineId)
      const own = store.devices().find((d) => d.mac === mac)
      // The new secret replaces the bay's old one in credentials.json: the old device is locked out.
      const secretN = await deps.issueSecret(machineId, actorLabel(by))
      const adopted = { mac, machine_id: machineId, firmware: device.firmware, assigned_at: nowS(), assigned_by: actorLabel(by) }
      const removeDevices = [previous?.mac, own && own.machine_id !== machineId ? own.mac : undefined].filter((m): m is string => m !== undefined && m !== mac)
      await store.write({
        devices: [adopted],
        removeDevices,
        audit: [
          draft(by, 'device.assigned', {
            target: mac,
            machine_id: [machineId],
            before: previous ? { mac: previous.mac, firmware: previous.firmware } : null,
            after: { mac, firmware: device.firmware },
            ...(previous && previous.mac !== mac && { reason: `replaces device ${previous.mac}; its secret is revoked` }),
          }),
        ],
      })
      // The old device (if still connected) goes now: its secret no longer works, so it stays out.
      if (previous && previous.mac !== mac) broker.disconnect((identity) => identity.kind === 'machine' && identity.machineId === machineId)
      await send(mac, { command: 'assign', machine_id: machineId, username: machineNodeName(machineId), secret: secretN })
      log.info({ mac, machineId, replaced: previous?.mac ?? null }, 'device assigned to a bay')
      return ok(pending.update(mac, { state: 'assigning', machine_id: machineId })!)
    },
    start() {
      offs.push(
        broker.onMessage(`${Topics.enrollPrefix}+`, (m) => {
          try {
            const who = m.client
            onAnnouncement(m.topic, m.payload, who?.kind, who?.kind === 'enrollee' ? who.mac : undefined)
          } catch (error) {
            log.error({ err: error }, 'enrollment message failed')
          }
        }),
        broker.onClientUp((identity) => {
          if (identity.kind !== 'machine') return
          const device = pending.assigningTo(identity.machineId)
          if (!device) return
          pending.remove(device.mac)
          log.info({ mac: device.mac, machineId: identity.machineId }, 'device adopted: logged in as its bay')
          audit([draft(SYSTEM, 'device.adopted', { target: device.mac, machine_id: [identity.machineId], after: { mac: device.mac } })]).catch((error: unknown) =>
            log.error({ err: error }, 'audit failed'),
          )
        }),
      )
    },
    stop() {
      window.stop()
      for (const off of offs.splice(0)) off()
    },
  }
}
