/**
 * Fleet (issue 16): adopting unadopted dispensers and updating their firmware, defined once for
 * the broker, the fleet module, the HTTP routes, the firmware (esp32/lib/dispenser_core/src/
 * enrollment.h and ota.h spell the same names; test/esp32/host.test.ts compares them) and tests.
 *
 * Enrollment: an unadopted dispenser logs in as ENROLL_USERNAME with the shared enrollment secret
 * and client id `enroll_{mac}`, only while the window is open. It publishes EnrollAnnouncement on
 * `external/enroll/{mac}` and hears EnrollCommand there (identify, assign). Nothing else.
 *
 * Updates: the hub sends FirmwareUpdate on `external/machine/{id}`; the dispenser answers with
 * OtaStatus on `external/handler` while it works, and proves success by reporting the new
 * `firmware` in its next MachineReport after the reboot.
 */
import { Type, type Static } from 'typebox'
import { Envelope, EpochSeconds, MachineId } from './messages.js'

/** The shared login of every unadopted dispenser (its secret: HUB_ENROLL_SECRET or data/enroll-secret). */
export const ENROLL_USERNAME = 'enroll'
const ENROLL_CLIENT = /^enroll_([0-9a-f]{12})$/

/** The client id an unadopted dispenser uses: `enroll_a4cf12b3c4d5`. */
export function enrollClientId(mac: string): string {
  return `enroll_${mac}`
}

/** The MAC an enrollment client id names, else undefined. */
export function macFromEnrollClientId(clientId: string): string | undefined {
  return ENROLL_CLIENT.exec(clientId)?.[1]
}

export const Mac = Type.String({ pattern: '^[0-9a-f]{12}$', description: 'MAC, 12 lowercase hex digits, no separators' })
export const FirmwareVersion = Type.String({ minLength: 1, maxLength: 32, pattern: '^[0-9A-Za-z._+-]+$' })
export const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' })

/** Dispenser -> hub on external/enroll/{mac}: who it is. */
export const EnrollAnnouncement = Type.Object({
  mac: Mac,
  firmware: FirmwareVersion,
  ip_address: Type.Optional(Type.String({ maxLength: 64 })),
  rssi: Type.Optional(Type.Number({ minimum: -200, maximum: 50 })),
  ...Envelope,
})
export type EnrollAnnouncement = Static<typeof EnrollAnnouncement>
/** An announcement is a hundred bytes; a bigger one is refused unread. */
export const MAX_ANNOUNCEMENT_BYTES = 1024

/** Hub -> dispenser on external/enroll/{mac}: blink the status LED (never the motor). */
export const EnrollIdentify = Type.Object({ command: Type.Literal('identify'), seconds: Type.Integer({ minimum: 1, maximum: 120 }) })
/** Hub -> dispenser on external/enroll/{mac}: your bay and its secret; store them and log in as `username`. */
export const EnrollAssign = Type.Object({
  command: Type.Literal('assign'),
  machine_id: MachineId,
  username: Type.String(),
  secret: Type.String(),
})
export type EnrollIdentify = Static<typeof EnrollIdentify>
export type EnrollAssign = Static<typeof EnrollAssign>

/** Hub -> machine on external/machine/{id}: fetch, verify and install this image. Flat (the firmware's JSON reader). */
export const FirmwareUpdate = Type.Object({
  machine_id: MachineId,
  request_type: Type.Literal('update'),
  version: FirmwareVersion,
  /** plain HTTP from the hub on the dispenser network; the path carries the image's download token */
  url: Type.String({ maxLength: 72 }),
  sha256: Sha256Hex,
  size: Type.Integer({ minimum: 1 }),
  ...Envelope,
})
export type FirmwareUpdate = Static<typeof FirmwareUpdate>

export const OtaStates = ['downloading', 'refused', 'failed', 'rolled_back'] as const
/** Machine -> hub on external/handler while it updates (selected by the `ota` field). */
export const OtaStatus = Type.Object({
  machine_id: MachineId,
  ota: Type.Enum([...OtaStates]),
  version: FirmwareVersion,
  message: Type.Optional(Type.String({ maxLength: 200 })),
  firmware: Type.Optional(FirmwareVersion),
  ...Envelope,
})
export type OtaStatus = Static<typeof OtaStatus>

// ---- HTTP (admin page) ----

export const PendingDevice = Type.Object({
  mac: Mac,
  firmware: Type.String(),
  ip_address: Type.Union([Type.String(), Type.Null()]),
  rssi: Type.Union([Type.Number(), Type.Null()]),
  first_seen: EpochSeconds,
  last_seen: EpochSeconds,
  /** waiting: announced, no bay yet; assigning: sent its secret, waiting for it to log in as its bay */
  state: Type.Enum(['waiting', 'assigning']),
  machine_id: Type.Union([MachineId, Type.Null()]),
  identify_until: Type.Union([EpochSeconds, Type.Null()]),
})
export type PendingDevice = Static<typeof PendingDevice>

export const EnrollmentStatus = Type.Object({
  open: Type.Boolean(),
  /** epoch s the window closes at, null when shut */
  until: Type.Union([EpochSeconds, Type.Null()]),
  pending: Type.Array(PendingDevice),
})
export type EnrollmentStatus = Static<typeof EnrollmentStatus>

export const EnrollmentBody = Type.Object({
  open: Type.Boolean(),
  minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, description: 'how long the window stays open (default 5)' })),
})
export const IdentifyBody = Type.Object({ seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 120 })) })
export const AssignBody = Type.Object({ machine_id: MachineId })
export const MacParams = Type.Object({ mac: Type.String({ maxLength: 64 }) })

/** An adopted device as the hub records it: which MAC serves which bay. */
export const AdoptedDevice = Type.Object({
  mac: Mac,
  machine_id: MachineId,
  firmware: Type.String(),
  assigned_at: EpochSeconds,
  assigned_by: Type.String(),
})
export type AdoptedDevice = Static<typeof AdoptedDevice>

export const FirmwareImage = Type.Object({
  version: FirmwareVersion,
  size: Type.Integer(),
  sha256: Sha256Hex,
  /** an Ed25519 signature checked against HUB_FIRMWARE_PUBLIC_KEY at upload */
  signed: Type.Boolean(),
  uploaded_at: EpochSeconds,
  uploaded_by: Type.String(),
})
export type FirmwareImage = Static<typeof FirmwareImage>

export const BayUpdateStates = ['queued', 'waiting', 'updating', 'updated', 'failed', 'skipped'] as const
export type BayUpdateState = (typeof BayUpdateStates)[number]

export const BayUpdate = Type.Object({
  machine_id: MachineId,
  /** queued: not started; waiting: in a session or offline, starts once idle; updating: command sent */
  state: Type.Enum([...BayUpdateStates]),
  from_version: Type.Union([Type.String(), Type.Null()]),
  message: Type.Union([Type.String(), Type.Null()]),
  started_at: Type.Union([EpochSeconds, Type.Null()]),
  finished_at: Type.Union([EpochSeconds, Type.Null()]),
})
export type BayUpdate = Static<typeof BayUpdate>

export const Rollout = Type.Object({
  id: Type.Integer(),
  version: FirmwareVersion,
  state: Type.Enum(['running', 'paused', 'completed', 'cancelled']),
  batch_size: Type.Integer(),
  max_failure_rate: Type.Number(),
  paused_reason: Type.Union([Type.String(), Type.Null()]),
  started_at: EpochSeconds,
  started_by: Type.String(),
  bays: Type.Array(BayUpdate),
})
export type Rollout = Static<typeof Rollout>

export const RolloutBody = Type.Object({
  version: FirmwareVersion,
  /** bays to update: `1-80`, `1,2,5-9` (as HUB_MACHINES) */
  machines: Type.String({ minLength: 1, maxLength: 1000 }),
  batch_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'bays updating at once (default 10)' })),
  max_failure_rate: Type.Optional(
    Type.Number({ minimum: 0, maximum: 1, description: 'failed / finished above this (after 3 finished) pauses the rollout (default 0.2)' }),
  ),
})
export type RolloutBody = Static<typeof RolloutBody>
export const RolloutAction = Type.Object({ action: Type.Enum(['pause', 'resume', 'cancel']) })
