/**
 * Every MQTT topic and node name of DESIGN §4, defined once.
 * No other file spells a topic string.
 */
export const Topics = {
  /** node -> hub: Session create/update/cancel, Request session/schedule */
  manager: 'internal/manager',
  /** node -> hub: Request machine, Machine (override) */
  handler: 'internal/handler',
  /** hub -> admin nodes: replies and every session/machine change */
  admin: 'internal/admin',
  kiosk: 'internal/kiosk',
  reservation: 'internal/reservation',
  /** machine -> hub: Machine report, Confirmation */
  machineHandler: 'external/handler',
  /** prefix of hub -> machine topics; use machineTopic(id) */
  machinePrefix: 'external/machine/',
  /** prefix of the enrollment topics of unadopted dispensers; use enrollTopic(mac) (issue 16) */
  enrollPrefix: 'external/enroll/',
} as const

export const NodeNames = {
  scheduleManager: 'schedule_manager',
  machineHandler: 'machine_handler',
  kiosk: 'kiosk_interface',
  reservation: 'reservation_interface',
  admin: 'admin_portal',
} as const

const MACHINE_NODE = /^machine_0*([1-9][0-9]*)$/
const MACHINE_TOPIC = /^external\/machine\/0*([1-9][0-9]*)$/
const NODE_NAME = /^[A-Za-z0-9_.-]{1,64}$/
/** A dispenser's MAC as the hub spells it everywhere: 12 lowercase hex digits, no separators. */
const MAC = /^[0-9a-f]{12}$/
const ENROLL_TOPIC = /^external\/enroll\/([0-9a-f]{12})$/

/** True when `mac` is a MAC in the one spelling the hub uses: `a4cf12b3c4d5`. */
export function isMac(mac: unknown): mac is string {
  return typeof mac === 'string' && MAC.test(mac)
}

/** The topic an unadopted dispenser announces itself on and hears the hub on: `external/enroll/a4cf12b3c4d5`. */
export function enrollTopic(mac: string): string {
  return `${Topics.enrollPrefix}${mac}`
}

/** The MAC of `external/enroll/{mac}`, else undefined (a wrong spelling is no enrollment topic). */
export function macFromEnrollTopic(topic: string): string | undefined {
  return ENROLL_TOPIC.exec(topic)?.[1]
}

/** True for every topic under external/enroll/ (well-spelled or not). */
export function isEnrollTopic(topic: string): boolean {
  return topic.startsWith(Topics.enrollPrefix)
}

/** The canonical topic a machine subscribes to: `external/machine/4`. */
export function machineTopic(id: number): string {
  return `${Topics.machinePrefix}${id}`
}

/** Machine id from `external/machine/4` (or `/004`), else undefined. */
export function machineIdFromTopic(topic: string): number | undefined {
  const m = MACHINE_TOPIC.exec(topic)
  return m ? Number(m[1]) : undefined
}

/** The canonical node name of a machine, as in DESIGN §4 examples: `machine_004`. */
export function machineNodeName(id: number): string {
  return `machine_${String(id).padStart(3, '0')}`
}

/** `machine_4` and `machine_004` are the same machine: both give 4. Anything else gives undefined. */
export function machineIdFromNode(node: string): number | undefined {
  const m = MACHINE_NODE.exec(node)
  return m ? Number(m[1]) : undefined
}

/** True when `name` can be a node name (and so a topic level under internal/). */
export function isValidNodeName(name: string): boolean {
  return NODE_NAME.test(name)
}

/**
 * Where replies to `origin` go (DESIGN §4): kiosk_interface -> internal/kiosk,
 * reservation_interface -> internal/reservation, admin_portal -> internal/admin,
 * any other X -> internal/X.
 */
export function replyTopic(origin: string): string {
  switch (origin) {
    case NodeNames.kiosk:
      return Topics.kiosk
    case NodeNames.reservation:
      return Topics.reservation
    case NodeNames.admin:
      return Topics.admin
    default:
      return `internal/${origin}`
  }
}
