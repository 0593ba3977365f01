/**
 * Hostile JSON payloads for the hub's MQTT inboxes (and, reused, for HTTP bodies).
 *
 * Every payload is built so that a correct hub changes nothing when it gets it: a booking always
 * falls in the window that the fuzzer's own maintenance block holds on every bay (so even a
 * payload that turns out valid is a conflict), a change always names a session the sender does not
 * own or one that does not exist, an override from a kiosk names a bay an admin holds, and anything
 * the admin identity sends is broken in its schema. So any accepted change is a bug.
 */
import type { Rng } from './rng.js'

export type AttackerRole = 'kiosk' | 'reservation' | 'admin' | 'machine'

export interface Attacker {
  role: AttackerRole
  /** node name (kiosk_interface, kiosk2, ...) or machine_0NN */
  name: string
  /** machine id for role machine */
  machineId?: number
}

export interface PayloadContext {
  /** epoch seconds when the cases were generated */
  now: number
  /** [start, end) epoch seconds held on every bay by the fuzzer's maintenance block */
  window: [number, number]
  /** bays the hub serves */
  bays: number[]
  /** sessions owned by a node that never attacks (kiosks must not read, move or cancel them) */
  foreignSessionIds: number[]
  /** bays held by an admin override (a kiosk override on them must be refused) */
  adminHeldBays: number[]
  /** every node name of the world, for impersonation */
  nodeNames: string[]
}

export interface HostilePayload {
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
  /** short description for failure reports */
  note: string
}

/** A JSON text fragment; raw so that invalid numbers, duplicate keys and escapes survive. */
type Raw = { raw: string }
const raw = (text: string): Raw => ({ raw: text })
type Value = unknown

export function toJson(value: Value): string {
  if (value !== null && typeof value === 'object' && 'raw' in (value as object) && typeof (value as Raw).raw === 'string' && Object.keys(value as object).length === 1) {
    return (value as Raw).raw
  }
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, Value>)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`
  }
  if (value === undefined) return 'null'
  return JSON.stringify(value)
}

const nested = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth)

/** Values that are wrong for every field of every schema, or absurd for it. */
export function hostileValue(rng: Rng): Value {
  switch (rng.int(0, 33)) {
    case 0: return 1e300
    case 1: return -1e300
    case 2: return raw('1e400') // Infinity after JSON.parse
    case 3: return raw('-1e400')
    case 4: return Number.MAX_SAFE_INTEGER
    case 5: return raw('9007199254740993') // 2^53 + 1: not representable
    case 6: return 2 ** 31
    case 7: return -1
    case 8: return 0
    case 9: return 1.5
    case 10: return raw('-0')
    case 11: return 5e-324
    case 12: return '1'
    case 13: return ''
    case 14: return null
    case 15: return true
    case 16: return []
    case 17: return {}
    case 18: return 'a\u0000b'
    case 19: return 'x'.repeat(rng.int(1000, 20_000))
    case 20: return '__proto__'
    case 21: return { __proto__: null, toString: 1 }
    case 22: return raw('{"__proto__":{"polluted":true}}')
    case 23: return raw(nested(rng.int(50, 5000), '[', ']'))
    case 24: return raw(nested(rng.int(50, 5000), '{"a":', '}'))
    case 25: return Array.from({ length: rng.int(65, 5000) }, (_, i) => i + 1)
    case 26: return '\ud800'
    case 27: return raw('"\\ud800\\udfff\\u0000\\u001f"')
    case 28: return '1e300'
    case 29: return { $gt: 0 }
    case 30: return [1, [2, [3, [4]]]]
    case 31: return 'NaN'
    case 32: return raw('"\\u0000"')
    default: return rng.int(-(2 ** 40), 2 ** 40) * 1000
  }
}

/** Start times the hub must refuse: past, beyond its booking horizon, or not a time at all. */
function hostileStart(rng: Rng, ctx: PayloadContext): Value {
  switch (rng.int(0, 6)) {
    case 0: return ctx.now - rng.int(3600, 10 * 365 * 86_400)
    case 1: return ctx.now + 401 * 86_400 + rng.int(0, 10 ** 9)
    case 2: return 1e300
    case 3: return 2 ** 53
    case 4: return raw('1e400')
    case 5: return -ctx.now
    default: return hostileValue(rng)
  }
}

function inWindow(rng: Rng, ctx: PayloadContext): number {
  const [from, to] = ctx.window
  // on the 5-minute grid, leaving room for the duration below
  return from + 300 * rng.int(0, Math.max(0, Math.floor((to - from - 3600) / 300)))
}

function someBays(rng: Rng, ctx: PayloadContext): Value {
  if (rng.chance(0.6)) return rng.pick(ctx.bays)
  const first = rng.int(0, ctx.bays.length - 1)
  return ctx.bays.slice(first, first + rng.int(1, 4))
}

const otherNode = (rng: Rng, ctx: PayloadContext, self: string) => {
  const others = ctx.nodeNames.filter((n) => n !== self)
  return rng.pick([...others, 'machine_001', 'schedule_manager', 'machine_handler', '../admin', 'kiosk_interface\u0000', '#', 'a'.repeat(300), 'admin_portal ', 'ADMIN_PORTAL'])
}

const nonexistentId = (rng: Rng) => rng.pick([rng.int(100_000, 2 ** 31 - 1), 2 ** 31 - 1, Number.MAX_SAFE_INTEGER, 99_999])

// ----------------------------------------------------------------------------- bases

type Obj = Record<string, Value>

function sessionBase(rng: Rng, ctx: PayloadContext, who: Attacker): Obj {
  const base: Obj = {
    machine_id: someBays(rng, ctx),
    status: rng.pick(['reserved', 'reserved', 'maintenance', 'cancelled']),
    start_time: inWindow(rng, ctx),
    duration: rng.pick([600, 1800, 3600]),
    origin_node: who.name,
    exchange_id: rng.int(0, 2 ** 31),
  }
  const r = rng.next()
  if (who.role !== 'admin' && r < 0.3 && ctx.foreignSessionIds.length > 0) base.session_id = rng.pick(ctx.foreignSessionIds)
  else if (r < 0.5) base.session_id = nonexistentId(rng)
  if (base.status === 'cancelled' && base.session_id === undefined) base.session_id = nonexistentId(rng)
  return base
}

function requestBase(rng: Rng, ctx: PayloadContext, who: Attacker, topic: 'manager' | 'handler'): Obj {
  const base: Obj = { request_id: rng.int(0, 2 ** 31), origin_node: who.name }
  if (topic === 'handler') {
    base.request_type = 'machine'
    base.machine_id = rng.pick(ctx.bays)
  } else if (rng.chance(0.5)) {
    base.request_type = 'session'
    base.session_id = ctx.foreignSessionIds.length > 0 && rng.chance(0.6) ? rng.pick(ctx.foreignSessionIds) : nonexistentId(rng)
  } else {
    base.request_type = 'schedule'
    base.date = rng.pick([undefined, '2026-02-30', '9999-12-31', '0000-00-00', '2026-13-01', new Date(ctx.window[0] * 1000).toISOString().slice(0, 10)])
  }
  return base
}

function overrideBase(rng: Rng, ctx: PayloadContext, who: Attacker): Obj {
  const base: Obj = {
    machine_id: who.role === 'admin' ? rng.pick([0, -1, 99_999, 10_000, ctx.bays.length + 1]) : rng.pick(ctx.adminHeldBays),
    status: rng.pick(['active', 'idle', 'maintenance']),
    scheduled_until: rng.chance(0.5) ? ctx.now + 600 : null,
    origin_node: who.name,
    exchange_id: rng.int(0, 2 ** 31),
  }
  if (rng.chance(0.2)) base.release = true
  return base
}

function machineBase(rng: Rng, ctx: PayloadContext, who: Attacker): Obj {
  const id = who.machineId!
  if (rng.chance(0.3)) {
    return { success: rng.chance(0.5), exchange_id: rng.int(0, 2 ** 31), status: 'active', session_id: rng.pick(ctx.foreignSessionIds.length ? ctx.foreignSessionIds : [1]), machine_id: id, origin_node: who.name }
  }
  // a report; often claiming to be a good dispenser (the ACL must refuse it)
  const claimed = rng.chance(0.4) ? rng.pick(ctx.bays.filter((b) => b !== id)) : id
  return {
    machine_id: claimed,
    status: rng.pick(['idle', 'active', 'error', 'maintenance']),
    ball_level: rng.pick(['full', 'low', 'empty']),
    scheduled_until: null,
    firmware: 'fuzz',
    rssi: -60,
    uptime_s: 1,
    origin_node: claimed === id ? who.name : `machine_${String(claimed).padStart(3, '0')}`,
  }
}

// ----------------------------------------------------------------------------- mutations

/** Poisons that make the message invalid for the schema (what the admin identity may send). */
function poisonSchema(rng: Rng, ctx: PayloadContext, obj: Obj): string {
  const fields = Object.keys(obj).filter((k) => k !== 'origin_node')
  const field = rng.pick(fields.length ? fields : ['machine_id'])
  if (field === 'start_time' || field === 'scheduled_until') obj[field] = hostileStart(rng, ctx)
  else if (rng.chance(0.15)) delete obj[field]
  else {
    let v = hostileValue(rng)
    // a few hostile values happen to be valid for some field: keep them invalid
    while (isPlausible(field, v)) v = hostileValue(rng)
    obj[field] = v
  }
  return `${field} poisoned`
}

function isPlausible(field: string, v: Value): boolean {
  if (typeof v === 'boolean') return field === 'release' || field === 'success'
  if (typeof v !== 'number') return false
  if (field === 'exchange_id' || field === 'request_id') return Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER
  if (field === 'session_id') return Number.isInteger(v) && v >= 1
  if (field === 'duration') return Number.isInteger(v) && v >= 60
  if (field === 'machine_id') return Number.isInteger(v) && v >= 1 && v <= 9999
  if (field === 'rssi' || field === 'uptime_s') return true
  return false
}

/** Extra hostile features that do not by themselves make a message invalid. */
function decorate(rng: Rng, ctx: PayloadContext, obj: Obj, who: Attacker): string[] {
  const notes: string[] = []
  const n = rng.int(0, 2)
  for (let i = 0; i < n; i++) {
    switch (rng.int(0, 7)) {
      case 0:
        obj[rng.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'])] = rng.pick([raw('{"admin":true}'), raw('{"prototype":{"polluted":1}}'), 1, 'x', null])
        notes.push('prototype key')
        break
      case 1:
        obj[`pad_${i}`] = 'p'.repeat(rng.int(100, 3000))
        notes.push('padding')
        break
      case 2:
        obj.origin_node = otherNode(rng, ctx, who.name)
        notes.push('foreign origin')
        break
      case 3:
        obj.destination_node = otherNode(rng, ctx, who.name)
        notes.push('foreign destination')
        break
      case 4:
        obj.timestamp = hostileValue(rng)
        notes.push('timestamp')
        break
      case 5:
        obj[`k${i}\u0000`] = '\u0000'
        notes.push('NUL key')
        break
      case 6:
        obj.exchange_id = hostileValue(rng)
        notes.push('exchange_id')
        break
      default:
        obj.session_id = nonexistentId(rng)
        notes.push('session id')
    }
  }
  return notes
}

/** Ways to spell a message that a naive reader (a prefix check, a regex, a first-key scan) misreads. */
function encode(rng: Rng, ctx: PayloadContext, obj: Obj, who: Attacker): { text: string | Buffer; note: string } {
  const json = toJson(obj)
  switch (rng.int(0, 19)) {
    case 0: return { text: ` ${json}`, note: 'leading space' }
    case 1: return { text: `\n\t\r ${json}`, note: 'leading whitespace' }
    case 2: return { text: `\ufeff${json}`, note: 'BOM' }
    case 3: return { text: `[${json}]`, note: 'array' }
    case 4: return { text: json.slice(0, rng.int(0, Math.max(0, json.length - 1))), note: 'truncated' }
    case 5: {
      // duplicate key: a first-key scan sees the sender's own name, JSON.parse the last one
      const other = otherNode(rng, ctx, who.name)
      return { text: `{"origin_node":${JSON.stringify(who.name)},${json.slice(1, -1)},"origin_node":${JSON.stringify(other)}}`, note: 'duplicate origin_node' }
    }
    case 6: {
      const other = otherNode(rng, ctx, who.name)
      return { text: `{"origin\\u005fnode":${JSON.stringify(other)},${json.slice(1)}`, note: 'escaped origin_node key' }
    }
    case 7: return { text: `${json}\u0000`, note: 'trailing NUL' }
    case 8: return { text: Buffer.concat([Buffer.from(json.slice(0, -1)), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('}')]), note: 'invalid UTF-8' }
    case 9: return { text: json + ' '.repeat(rng.int(65 * 1024, 80 * 1024)), note: 'whitespace past 64 KiB' }
    case 10: return { text: `{"pad":"${'x'.repeat(rng.int(65 * 1024, 150 * 1024))}",${json.slice(1)}`, note: 'oversize' }
    case 11: return { text: rng.pick(['', 'null', 'true', '0', '"text"', '[]', '{}', 'NaN', '{', '}', '\u0000', '{"a":1}{"b":2}']), note: 'not an object' }
    case 12: return { text: nested(rng.int(1000, 60_000), '[', ']'), note: 'deep array' }
    case 13: return { text: nested(rng.int(1000, 20_000), '{"a":', '}'), note: 'deep object' }
    case 14: return { text: json.replace(/:/, ': /*c*/ '), note: 'comment' }
    default: return { text: json, note: 'plain' }
  }
}

// ----------------------------------------------------------------------------- cases

const INBOX = { manager: 'internal/manager', handler: 'internal/handler', machines: 'external/handler' } as const

function strangeTopic(rng: Rng, who: Attacker): string {
  return rng.pick([
    'external/machine/1',
    'external/machine/001',
    `external/machine/${who.machineId ?? 2}`,
    'internal/admin',
    'internal/kiosk',
    'internal/kiosk2',
    'internal/manager/',
    'internal//manager',
    '/internal/manager',
    'Internal/Manager',
    'internal/manager\u0000x',
    '$SYS/broker/clients',
    'external/handler/x',
    't'.repeat(rng.int(300, 60_000)),
    `internal/${'a/'.repeat(rng.int(100, 3000))}`,
  ])
}

/** One hostile publish from `who`, for a connected session of that identity. */
export function hostilePublish(rng: Rng, ctx: PayloadContext, who: Attacker): HostilePayload {
  let topic: string
  let base: Obj
  if (who.role === 'machine') {
    topic = rng.chance(0.85) ? INBOX.machines : rng.chance(0.5) ? rng.pick([INBOX.manager, INBOX.handler]) : strangeTopic(rng, who)
    base = machineBase(rng, ctx, who)
  } else {
    const r = rng.next()
    if (r < 0.55) {
      topic = INBOX.manager
      base = rng.chance(0.65) ? sessionBase(rng, ctx, who) : requestBase(rng, ctx, who, 'manager')
    } else if (r < 0.85) {
      topic = INBOX.handler
      base = rng.chance(0.5) ? overrideBase(rng, ctx, who) : requestBase(rng, ctx, who, 'handler')
    } else if (r < 0.93) {
      topic = INBOX.machines
      base = machineBase(rng, ctx, { role: 'machine', name: 'machine_001', machineId: 1 })
    } else {
      topic = strangeTopic(rng, who)
      // a control as the hub sends it: a dispenser that gets it would switch (visible in its state)
      base = topic.startsWith('external/machine/')
        ? { machine_id: Number(topic.split('/')[2]), session_id: null, status: 'maintenance', scheduled_until: null, timestamp: ctx.now, exchange_id: rng.int(0, 2 ** 31), origin_node: 'machine_handler', destination_node: 'machine_001' }
        : sessionBase(rng, ctx, who)
    }
  }
  const notes: string[] = []
  // a control on a dispenser's topic stays valid: only the ACL stands between it and the dispenser
  const control = topic.startsWith('external/machine/')
  if (!control && (who.role === 'admin' || rng.chance(0.5))) notes.push(poisonSchema(rng, ctx, base))
  notes.push(...decorate(rng, ctx, base, who))
  const { text, note } = encode(rng, ctx, base, who)
  notes.push(note)
  const qos = rng.pick([0, 0, 1, 1, 2] as const)
  const retain = rng.chance(0.12)
  if (retain) notes.push('retain')
  return { topic, payload: Buffer.isBuffer(text) ? text : Buffer.from(text), qos, retain, note: `${who.name} -> ${topic.slice(0, 40)}: ${notes.join(', ')}` }
}

/** A hostile JSON body for POST /api/sessions (same rules as an MQTT Session). */
export function hostileSessionBody(rng: Rng, ctx: PayloadContext, who: Attacker): { body: Buffer; note: string } {
  const base = sessionBase(rng, ctx, who)
  delete base.origin_node
  const notes: string[] = []
  if (who.role === 'admin' || rng.chance(0.6)) notes.push(poisonSchema(rng, ctx, base))
  notes.push(...decorate(rng, ctx, base, who))
  const { text, note } = encode(rng, ctx, base, who)
  notes.push(note)
  return { body: Buffer.isBuffer(text) ? text : Buffer.from(text), note: notes.join(', ') }
}

export { hostileStart, nonexistentId }
