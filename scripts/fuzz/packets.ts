/**
 * Malformed and hostile MQTT 3.1.1 packets as raw bytes, built by hand so that every rule of the
 * spec can be broken (mqtt-packet refuses to encode most of them). Pre-auth cases are what anyone
 * on the LAN can send before CONNACK; post-auth cases follow a good CONNECT of an attacker identity.
 */
import type { Rng } from './rng.js'

/** MQTT variable-length "remaining length", optionally over-long (5 bytes: malformed). */
export function varint(n: number): Buffer {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

export function str(s: string | Buffer): Buffer {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s)
  const len = Buffer.alloc(2)
  len.writeUInt16BE(Math.min(b.length, 0xffff))
  return Buffer.concat([len, b])
}

export function packet(header: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([header]), varint(body.length), body])
}

const u16 = (n: number) => {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n & 0xffff)
  return b
}

export interface ConnectFields {
  protocolName?: string | Buffer
  level?: number
  flags?: number
  keepalive?: number
  clientId?: string | Buffer
  username?: string | Buffer
  password?: string | Buffer
  will?: { topic: string | Buffer; payload: string | Buffer }
}

/** A CONNECT with whatever flags it is given: the flags byte is not derived from the fields. */
export function connectPacket(f: ConnectFields): Buffer {
  let flags = f.flags
  if (flags === undefined) {
    flags = 0x02
    if (f.will) flags |= 0x04
    if (f.username !== undefined) flags |= 0x80
    if (f.password !== undefined) flags |= 0x40
  }
  const parts = [str(f.protocolName ?? 'MQTT'), Buffer.from([f.level ?? 4, flags]), u16(f.keepalive ?? 30), str(f.clientId ?? '')]
  if (f.will) parts.push(str(f.will.topic), str(f.will.payload))
  if (f.username !== undefined) parts.push(str(f.username))
  if (f.password !== undefined) parts.push(str(f.password))
  return packet(0x10, Buffer.concat(parts))
}

export function publishPacket(topic: string | Buffer, payload: Buffer, opts: { qos?: number; retain?: boolean; dup?: boolean; id?: number } = {}): Buffer {
  const qos = opts.qos ?? 0
  const header = 0x30 | (opts.dup ? 0x08 : 0) | ((qos & 3) << 1) | (opts.retain ? 1 : 0)
  const parts = [str(topic)]
  if (qos > 0) parts.push(u16(opts.id ?? 1))
  parts.push(payload)
  return packet(header, Buffer.concat(parts))
}

export function subscribePacket(filters: Array<[string | Buffer, number]>, id = 1, header = 0x82): Buffer {
  return packet(header, Buffer.concat([u16(id), ...filters.map(([f, q]) => Buffer.concat([str(f), Buffer.from([q])]))]))
}

const randomBytes = (rng: Rng, n: number) => Buffer.from(Array.from({ length: n }, () => rng.int(0, 255)))

const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', 'isPrototypeOf']

export interface PreAuthCase {
  bytes: Buffer[]
  note: string
}

/** Something sent before (or instead of) a good CONNECT by an unauthenticated stranger. */
export function preAuthCase(rng: Rng, ctx: { knownNames: string[]; machineIds: number[] }): PreAuthCase {
  const r = rng.int(0, 27)
  switch (r) {
    case 0:
      return { bytes: [randomBytes(rng, rng.int(1, 300))], note: 'random bytes' }
    case 1: {
      // remaining length claims up to 256 MB; what follows is junk (the hub must not buffer it)
      const claim = rng.pick([256 * 1024 * 1024 - 1, 100 * 1024 * 1024, 70 * 1024])
      const junk = rng.chance(0.05) ? 256 * 1024 : rng.int(100, 8000)
      return { bytes: [Buffer.concat([Buffer.from([0x10]), varint(claim)]), randomBytes(rng, junk)], note: `CONNECT claiming ${claim} bytes, ${junk} sent` }
    }
    case 2:
      return { bytes: [Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00])], note: '5-byte remaining length' }
    case 3:
      return { bytes: [Buffer.from([rng.pick([0x00, 0xf0, 0x20, 0x90, 0xb0, 0xd0]), 0x00])], note: 'server-side or reserved packet type first' }
    case 4:
      return { bytes: [publishPacket('internal/manager', Buffer.from('{}'))], note: 'PUBLISH before CONNECT' }
    case 5:
      return { bytes: [connectPacket({ level: rng.pick([0, 1, 2, 3, 5, 6, 99, 255]), clientId: 'x' })], note: 'bad protocol level' }
    case 6:
      return { bytes: [connectPacket({ protocolName: rng.pick(['MQTX', 'mqtt', '', 'MQIsdp', 'MQTT\u0000', Buffer.from([0xff, 0xfe])]), clientId: 'x' })], note: 'bad protocol name' }
    case 7:
      return { bytes: [connectPacket({ clientId: 'c'.repeat(rng.int(129, 65_000)), username: 'nobody', password: 'x' })], note: 'long client id' }
    case 8:
      return { bytes: [connectPacket({ clientId: 'fz', username: 'u'.repeat(rng.int(129, 65_000)), password: 'x' })], note: 'long username' }
    case 9: {
      const name = rng.pick(PROTO_NAMES)
      return { bytes: [connectPacket({ clientId: `fz-${name}`, username: rng.pick([name, `machine_${name}`, `${name}_1`]), password: 'x' })], note: `username ${name}` }
    }
    case 10:
      return { bytes: [connectPacket({ clientId: rng.pick(PROTO_NAMES), username: 'nobody', password: 'x' })], note: 'prototype client id' }
    case 11:
      return { bytes: [connectPacket({ clientId: 'fz', flags: rng.pick([0x01, 0x03, 0x40, 0x18, 0x3e, 0xff]) })], note: 'reserved / inconsistent connect flags' }
    case 12:
      return { bytes: [connectPacket({ clientId: '', flags: 0x00 })], note: 'empty client id, persistent session' }
    case 13:
      return { bytes: [connectPacket({ clientId: 'fz', username: rng.pick(ctx.knownNames), password: randomBytes(rng, rng.int(0, 64)) })], note: 'known name, wrong secret' }
    case 14:
      return { bytes: [connectPacket({ clientId: 'fz', username: `machine_${rng.pick(['0', '-1', '1e3', '00000000000000000001', '99999999999999999999999', '1.5', ' 1', '0x1'])}`, password: 'x' })], note: 'odd machine username' }
    case 15: {
      const id = rng.pick(ctx.machineIds)
      return { bytes: [connectPacket({ clientId: `machine_${id}`, keepalive: rng.pick([0, 11, 65535]) })], note: 'anonymous machine client id' }
    }
    case 16: {
      const full = connectPacket({ clientId: 'fz', username: 'kiosk_interface', password: 'x' })
      return { bytes: [full.subarray(0, rng.int(1, full.length - 1))], note: 'truncated CONNECT' }
    }
    case 17:
      return { bytes: [connectPacket({ clientId: 'fz', username: Buffer.from([0xff, 0xfe, 0x00, 0xc0, 0x80]), password: 'x' })], note: 'invalid UTF-8 username' }
    case 18:
      return { bytes: [connectPacket({ clientId: Buffer.from([0x00, 0xed, 0xa0, 0x80]), username: 'nobody', password: 'x' })], note: 'NUL / surrogate in client id' }
    case 19:
      return { bytes: [connectPacket({ clientId: 'fz', will: { topic: rng.pick(['#', 'internal/manager', 'external/machine/1', '']), payload: '{"status":"cancelled"}' }, flags: 0x2e })], note: 'will QoS 1 retain, no credentials' }
    case 20: {
      const c = connectPacket({ clientId: 'fz', username: 'nobody', password: 'x' })
      return { bytes: [Buffer.concat([c, c])], note: 'two CONNECTs' }
    }
    case 21: {
      // a CONNECT whose string lengths point past the end of the packet
      const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2]), u16(30), u16(60_000), Buffer.from('abc')])
      return { bytes: [packet(0x10, body)], note: 'string length past packet end' }
    }
    case 22:
      return { bytes: [Buffer.from([0xc0, 0x00])], note: 'PINGREQ before CONNECT' }
    case 23:
      return { bytes: [connectPacket({ clientId: 'fz', username: 'kiosk_interface' })], note: 'username without password' }
    case 24:
      return { bytes: [connectPacket({ clientId: 'fz', password: 'x', flags: 0x42 })], note: 'password without username' }
    case 25:
      return { bytes: [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], note: 'HTTP on the MQTT port' }
    case 26:
      return { bytes: [Buffer.from([0x10]), Buffer.from([0x80]), Buffer.from([0x80]), Buffer.from([0x80])], note: 'remaining length split across writes, never finished' }
    default:
      return { bytes: [connectPacket({ clientId: 'fz', keepalive: 0, username: 'admin_portal', password: randomBytes(rng, 8) })], note: 'admin name, random secret' }
  }
}

export interface PostAuthCase {
  bytes: Buffer
  note: string
}

/** A protocol violation sent by a client that logged in properly. */
export function postAuthCase(rng: Rng, ownMachine?: number): PostAuthCase {
  const payload = Buffer.from('{"request_type":"schedule","request_id":1}')
  switch (rng.int(0, 25)) {
    case 0:
      return { bytes: publishPacket(Buffer.from([0x69, 0xff, 0xfe, 0x2f]), payload), note: 'PUBLISH with invalid UTF-8 topic' }
    case 1:
      return { bytes: publishPacket('internal/manager', payload, { qos: 1, id: 0 }), note: 'PUBLISH QoS 1 with packet id 0' }
    case 2:
      return { bytes: publishPacket('internal/manager', payload, { qos: 2, id: 0 }), note: 'PUBLISH QoS 2 with packet id 0' }
    case 3:
      return { bytes: publishPacket('internal/manager', payload, { qos: 3, id: 5 }), note: 'PUBLISH QoS 3' }
    case 4:
      return { bytes: publishPacket(rng.pick(['internal/+', 'internal/#', '#', '+']), payload), note: 'PUBLISH to a wildcard' }
    case 5:
      return { bytes: publishPacket('', payload), note: 'PUBLISH to empty topic' }
    case 6:
      return { bytes: publishPacket('internal/man\u0000ager', payload), note: 'PUBLISH topic with NUL' }
    case 7: {
      const body = Buffer.concat([u16(500), Buffer.from('internal/manager')])
      return { bytes: packet(0x30, body), note: 'topic length past packet end' }
    }
    case 8:
      return { bytes: subscribePacket([[rng.pick(['#', '$SYS/#', 'internal/#', 'external/#', '+/+', 'internal/+', '$share/g/#']), rng.int(0, 2)]]), note: 'SUBSCRIBE to broad filter' }
    case 9:
      return { bytes: subscribePacket([['internal/kiosk', 0]], 0), note: 'SUBSCRIBE with packet id 0' }
    case 10:
      return { bytes: subscribePacket([['internal/kiosk', 3]]), note: 'SUBSCRIBE QoS 3' }
    case 11:
      return { bytes: subscribePacket([['internal/kiosk', 0]], 7, 0x80), note: 'SUBSCRIBE with reserved header bits wrong' }
    case 12:
      return { bytes: packet(0x82, u16(9)), note: 'SUBSCRIBE without filters' }
    case 13:
      return { bytes: subscribePacket([[Buffer.from([0xff, 0xfe]), 0]]), note: 'SUBSCRIBE invalid UTF-8 filter' }
    case 14:
      return { bytes: subscribePacket([[rng.pick(['a/#/b', 'internal/#x', 'a+/b', '']), 0]]), note: 'SUBSCRIBE malformed filter' }
    case 15:
      return { bytes: packet(rng.pick([0x40, 0x50, 0x62, 0x70]), u16(rng.int(0, 65535))), note: 'ack for an unknown packet id' }
    case 16:
      return { bytes: packet(0x60, u16(1)), note: 'PUBREL with wrong flags' }
    case 17:
      return { bytes: packet(0xc0, Buffer.from([1])), note: 'PINGREQ with a body' }
    case 18:
      return { bytes: connectPacket({ clientId: 'again' }), note: 'second CONNECT' }
    case 19:
      return { bytes: packet(rng.pick([0x00, 0xf0, 0x20, 0x90, 0xb0, 0xd0]), Buffer.alloc(2)), note: 'reserved or server-only packet type' }
    case 20:
      return { bytes: packet(0xe0, Buffer.from([1, 2, 3])), note: 'DISCONNECT with a body' }
    case 21: {
      const claim = rng.pick([256 * 1024 * 1024 - 1, 10 * 1024 * 1024, 65 * 1024 + 1])
      return { bytes: Buffer.concat([Buffer.from([0x30]), varint(claim), str('internal/manager'), Buffer.alloc(rng.int(100, 20_000), 0x20)]), note: `PUBLISH claiming ${claim} bytes` }
    }
    case 22:
      return { bytes: packet(0xa2, Buffer.concat([u16(3), str(Buffer.from([0xc0, 0xaf]))])), note: 'UNSUBSCRIBE invalid UTF-8' }
    case 23:
      return { bytes: packet(0xa2, u16(0)), note: 'UNSUBSCRIBE id 0 without filters' }
    case 24:
      return { bytes: publishPacket(`external/machine/${ownMachine ?? 1}`, Buffer.from('{"machine_id":1,"status":"active"}'), { qos: 1, id: 9, retain: true }), note: 'retained command on a machine topic' }
    default:
      return { bytes: randomBytes(rng, rng.int(2, 200)), note: 'random bytes after CONNACK' }
  }
}
