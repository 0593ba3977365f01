/**
 * The one inbound MQTT pipeline (issue 10): every message a client publishes to a hub inbox
 * goes through decodeInbound exactly once, before any adapter looks at it. In one pass it
 *
 * 1. caps the size for the topic (before the bytes are decoded),
 * 2. parses the JSON once,
 * 3. checks the identity the payload claims (`origin_node`, a machine's `machine_id`) against
 *    the login, so the reply can never be steered to another node's topic,
 * 4. picks the schema the topic and the payload's shape call for (INBOXES) and validates,
 * 5. keeps only the schema's fields (a padded report is not stored or forwarded whole).
 *
 * It returns the value with where the answer goes, or the refusal with where the refusal goes
 * (the login's own reply topic, never one the payload names).
 */
import type { TObject } from 'typebox'
import { Compile } from 'typebox/compile'
import { machineOf, roleOf, type ClientIdentity } from './identity.js'
import type { Actor } from './access.js'
import { MAX_PAYLOAD_BYTES, parseJsonObject } from './codec.js'
import { nodeAddress, type ReplyAddress, type ReplyTo } from './envelope.js'
import { MachineConfirmation, MachineOverride, MachineReport, Request, Session } from './messages.js'
import { OtaStatus } from './fleet.js'
import { NodeNames, Topics, isValidNodeName, machineIdFromNode, machineNodeName, machineTopic } from './topics.js'
import { formatValidationError } from './validation.js'

/** A dispenser's report or Confirmation is a few hundred bytes; a bigger one is refused unread. */
export const MAX_MACHINE_PAYLOAD_BYTES = 4 * 1024

/** What each inbox topic carries: schema per kind, and the payload shape that selects it. */
export type InboundValue =
  | { kind: 'session'; value: Session }
  | { kind: 'request'; value: Request }
  | { kind: 'override'; value: MachineOverride }
  | { kind: 'report'; value: MachineReport }
  | { kind: 'confirmation'; value: MachineConfirmation }
  | { kind: 'ota'; value: OtaStatus }
export type InboundKind = InboundValue['kind']

const SCHEMAS: { [K in InboundKind]: TObject } = {
  session: Session,
  request: Request,
  override: MachineOverride,
  report: MachineReport,
  confirmation: MachineConfirmation,
  ota: OtaStatus,
}

interface Inbox {
  /** who may publish here: interface nodes or dispensers */
  from: 'node' | 'machine'
  maxBytes: number
  kindOf(value: Record<string, unknown>): InboundKind
}

const has = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key)

/** Topic -> schema(s), defined once (README "MQTT contract"). */
export const INBOXES: ReadonlyMap<string, Inbox> = new Map<string, Inbox>([
  [Topics.manager, { from: 'node', maxBytes: MAX_PAYLOAD_BYTES, kindOf: (v) => (has(v, 'request_type') ? 'request' : 'session') }],
  [Topics.handler, { from: 'node', maxBytes: MAX_PAYLOAD_BYTES, kindOf: (v) => (has(v, 'request_type') ? 'request' : 'override') }],
  [Topics.machineHandler, { from: 'machine', maxBytes: MAX_MACHINE_PAYLOAD_BYTES, kindOf: (v) => (has(v, 'success') ? 'confirmation' : has(v, 'ota') ? 'ota' : 'report') }],
])

/** Each kind's validator, compiled on its first message rather than at import (issue 17, start-up). */
const compiled = new Map<InboundKind, ReturnType<typeof Compile>>()
const validatorOf = (kind: InboundKind) => {
  let validator = compiled.get(kind)
  if (!validator) compiled.set(kind, (validator = Compile(SCHEMAS[kind])))
  return validator
}
const FIELDS = Object.fromEntries(Object.entries(SCHEMAS).map(([kind, schema]) => [kind, Object.keys(schema.properties)])) as {
  [K in InboundKind]: string[]
}

/** Who sent it, as the login says (never as the payload says). */
export type NodeSender = { kind: 'node'; actor: Actor }
export type MachineSender = { kind: 'machine'; machineId: number }
export type Sender = NodeSender | MachineSender

/** Safe bits of a payload worth echoing even in a refusal. */
export interface InboundHint {
  session_id: number | null
  machine_id?: number
}

export type InboundResult =
  | ({ ok: true; sender: Sender; reply: ReplyAddress } & InboundValue)
  | {
      ok: false
      field: string
      /** `field: problem` */
      message: string
      /** who sent it, when known */
      sender: Sender | undefined
      /** where the refusal goes; undefined when there is nobody to tell */
      reply: ReplyAddress | undefined
      hint: InboundHint
      /** the sender may not say this here at all (wrong inbox for it, or it claims to be someone else) */
      identity: boolean
    }

const safeId = (v: unknown, min: number): number | undefined => (Number.isSafeInteger(v) && (v as number) >= min ? (v as number) : undefined)

function echoOf(raw: Record<string, unknown> | undefined): ReplyTo {
  if (!raw) return {}
  return { exchange_id: safeId(raw.exchange_id, 0), request_id: safeId(raw.request_id, 0) }
}

function hintOf(raw: Record<string, unknown> | undefined): InboundHint {
  const machine = safeId(raw?.machine_id, 1)
  return { session_id: safeId(raw?.session_id, 1) ?? null, ...(machine !== undefined && { machine_id: machine }) }
}

/** The node a login speaks as (identity.ts roleOf): the hub itself and anonymous development clients act as admin. */
function nodeSender(identity: ClientIdentity | null): NodeSender | undefined {
  if (identity === null) return { kind: 'node', actor: { name: NodeNames.admin, role: 'admin' } }
  const role = roleOf(identity)
  if (!role) return undefined
  return { kind: 'node', actor: { name: identity.kind === 'node' ? identity.node : identity.clientId, role } }
}

/** The machine a login is (identity.ts machineOf); the hub itself and anonymous development clients are trusted by payload. */
function machineSender(identity: ClientIdentity | null, raw: Record<string, unknown> | undefined): number | undefined {
  if (identity?.kind === 'node') return undefined
  return (identity ? machineOf(identity) : undefined) ?? safeId(raw?.machine_id, 1)
}

function machineAddress(id: number, echo: ReplyTo): ReplyAddress {
  return { topic: machineTopic(id), to: machineNodeName(id), echo }
}

/**
 * A node's answers go to its login's reply topic. Only an admin may address them elsewhere
 * (an admin console acting for another node names it in `origin_node`).
 */
function nodeReply(actor: Actor, raw: Record<string, unknown> | undefined, echo: ReplyTo): ReplyAddress {
  const claimed = raw?.origin_node
  if (actor.role === 'admin' && typeof claimed === 'string' && isValidNodeName(claimed)) return nodeAddress(claimed, echo)
  return nodeAddress(actor.name, echo)
}

/** A claimed value for a message: never the whole of it (a 30,000-deep list must not be walked). */
function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value)
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value)
  return Array.isArray(value) ? 'a list' : `a value of type ${typeof value}`
}

/** The identity problem of a payload claiming to be someone the login is not, else undefined. */
function identityProblem(sender: Sender, raw: Record<string, unknown>): { field: string; message: string } | undefined {
  const origin = raw.origin_node
  if (sender.kind === 'machine') {
    const id = sender.machineId
    if (raw.machine_id !== undefined && raw.machine_id !== id) {
      return { field: 'machine_id', message: `machine_id: ${shown(raw.machine_id)} is not the sender (machine ${id})` }
    }
    if (typeof origin === 'string' && machineIdFromNode(origin) !== id) {
      return { field: 'origin_node', message: `origin_node: ${shown(origin)} is not the sender (machine ${id})` }
    }
    return undefined
  }
  const { actor } = sender
  if (actor.role !== 'admin' && origin !== undefined && origin !== actor.name) {
    return { field: 'origin_node', message: `origin_node: node ${actor.name} may not publish as ${shown(origin)}` }
  }
  return undefined
}

function pick(value: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of fields) if (has(value, f) && value[f] !== undefined) out[f] = value[f]
  return out
}

/**
 * The broker's publish check and the adapter both ask about the same packet: the ACL to drop a
 * spoofed one before any subscriber sees it, the adapter to act on it. The packet's payload
 * Buffer and the login's identity object are the same for both, so the second asks for the
 * answer of the first instead of parsing again. Keyed weakly: gone with the packet.
 */
const decoded = new WeakMap<Buffer, { topic: string; identity: ClientIdentity | null; result: InboundResult }>()

/**
 * Decode one message published to an inbox by `identity` (null: the hub itself, in-process).
 * Parses a given payload Buffer once, however many times it is asked. Never throws.
 */
export function decodeInbound(topic: string, payload: Buffer, identity: ClientIdentity | null): InboundResult {
  const known = decoded.get(payload)
  if (known && known.topic === topic && known.identity === identity) return known.result
  const result = decodeOnce(topic, payload, identity)
  decoded.set(payload, { topic, identity, result })
  return result
}

/**
 * The identity refusal of a message, for the broker's publish check (acl.ts): a payload
 * claiming another sender is dropped there, before any subscriber sees it. Other problems are
 * the adapter's to answer.
 */
export function inboundIdentityRefusal(topic: string, payload: Buffer, identity: ClientIdentity | null): string | undefined {
  if (!INBOXES.has(topic)) return undefined
  const result = decodeInbound(topic, payload, identity)
  return !result.ok && result.identity ? result.message : undefined
}

/** The ids a refusal of this message echoes, from its one decode; undefined when `topic` is no inbox. */
export function inboundEcho(topic: string, payload: Buffer, identity: ClientIdentity | null): ReplyTo | undefined {
  if (!INBOXES.has(topic)) return undefined
  return decodeInbound(topic, payload, identity).reply?.echo ?? {}
}

function decodeOnce(topic: string, payload: Buffer, identity: ClientIdentity | null): InboundResult {
  const inbox = INBOXES.get(topic)
  const refuse = (field: string, message: string, sender: Sender | undefined, reply: ReplyAddress | undefined, raw?: Record<string, unknown>, identity = false): InboundResult => ({
    ok: false, field, message, sender, reply, hint: hintOf(raw), identity,
  })
  // Who is talking decides where a refusal goes, so it is settled before the payload is read.
  const asNode = nodeSender(identity)
  if (!inbox) return refuse('(topic)', `(topic): ${topic} is not a hub inbox`, asNode, asNode && nodeAddress(asNode.actor.name))

  const parsed = parseJsonObject(payload, inbox.maxBytes)
  const raw = parsed.ok ? parsed.value : undefined
  const echo = echoOf(raw)

  let sender: Sender | undefined
  let reply: ReplyAddress | undefined
  if (inbox.from === 'machine') {
    const id = machineSender(identity, raw)
    if (id === undefined) {
      const who = identity?.kind === 'node' ? `node ${identity.node}` : (identity?.clientId ?? 'the hub')
      return refuse('(sender)', `(sender): ${who} is not a machine`, asNode, asNode && nodeAddress(asNode.actor.name, echo), raw, true)
    }
    sender = { kind: 'machine', machineId: id }
    reply = machineAddress(id, echo)
  } else {
    if (!asNode) {
      const id = identity ? machineOf(identity) : undefined
      const mreply = id === undefined ? undefined : machineAddress(id, echo)
      return refuse('(sender)', `(sender): a machine may not publish to ${topic}`, undefined, mreply, raw, true)
    }
    sender = asNode
    reply = nodeReply(asNode.actor, raw, echo)
  }
  if (!parsed.ok || !raw) return refuse(parsed.ok ? '(payload)' : parsed.field, parsed.ok ? '(payload): is invalid' : parsed.message, sender, reply)

  const problem = identityProblem(sender, raw)
  if (problem) {
    // Answer the login, not the name it claimed (defect 9: the claim must not steer the reply).
    const own = sender.kind === 'node' ? nodeAddress(sender.actor.name, echo) : reply
    return refuse(problem.field, problem.message, sender, own, raw, true)
  }

  const kind = inbox.kindOf(raw)
  // A release needs no target state: `{"machine_id": 3, "release": true}` means "back to the schedule".
  const input = kind === 'override' && raw.release === true && !has(raw, 'status') ? { ...raw, status: 'idle' } : raw
  const validator = validatorOf(kind)
  if (!validator.Check(input)) {
    const { field, message } = formatValidationError([...validator.Errors(input)])
    return refuse(field, message, sender, reply, raw)
  }
  return { ok: true, sender, reply, kind, value: pick(input, FIELDS[kind]) } as InboundResult
}
