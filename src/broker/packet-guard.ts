/**
 * Maximum MQTT packet size, enforced on the byte stream before Aedes sees it (DESIGN §9).
 * Aedes has no limit (moscajs/aedes#831): its parser keeps buffering until the remaining length
 * it was promised has arrived, so one CONNECT claiming 256 MB made the hub hold whatever followed.
 * Like mosquitto's max_packet_size, we read each packet's fixed header and remaining length
 * ([MQTT-2.2.3]) as the bytes pass, and close the connection as soon as a header announces more
 * than the limit: the oversized packet's bytes never reach the broker.
 */
import { Duplex } from 'node:stream'

export type ViolationCode = 'packet_too_large' | 'malformed' | 'bad_topic' | 'packet_id_zero'
export type ScanResult = { ok: true } | { ok: false; code: ViolationCode; reason: string }

const PUBLISH = 3
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Follows packet boundaries across chunks: per packet it reads the type byte and the 1-4 byte
 * remaining length, then skips the body, except a PUBLISH's topic and packet id, which it checks
 * on the wire: the parser behind us decodes an invalid UTF-8 topic into U+FFFD and accepts packet
 * id 0, and both must close the connection ([MQTT-1.5.3-1], [MQTT-1.5.3-2], [MQTT-2.3.1-1]).
 * Pure, so it is tested byte by byte.
 */
export function createPacketScanner(maxPacket: number) {
  let state: 'type' | 'length' | 'head' | 'body' = 'type'
  let type = 0
  let qos = 0
  let remaining = 0 // the remaining length being read, then the body bytes still to pass
  let multiplier = 1
  let lengthBytes = 0
  // a PUBLISH's variable header, collected until complete (it may span chunks)
  let head: Buffer[] = []
  let headLength = 0
  let headNeed = 0

  const fail = (code: ViolationCode, reason: string): ScanResult => ({ ok: false, code, reason })

  /** Checks a complete PUBLISH variable header; may ask for more bytes by raising headNeed. */
  const checkHead = (bytes: Buffer): ScanResult | 'more' => {
    const topicLength = bytes.readUInt16BE(0)
    const need = 2 + topicLength + (qos > 0 ? 2 : 0)
    if (bytes.length < need) {
      if (need > bytes.length + remaining) return fail('malformed', 'PUBLISH topic longer than the packet')
      headNeed = need
      return 'more'
    }
    const topic = bytes.subarray(2, 2 + topicLength)
    try {
      if (utf8.decode(topic).includes('\u0000')) return fail('bad_topic', 'PUBLISH topic contains U+0000')
    } catch {
      return fail('bad_topic', 'PUBLISH topic is not valid UTF-8')
    }
    if (qos > 0 && bytes.readUInt16BE(2 + topicLength) === 0) return fail('packet_id_zero', `QoS ${qos} PUBLISH with packet id 0`)
    return { ok: true }
  }

  return {
    scan(chunk: Uint8Array): ScanResult {
      let i = 0
      while (i < chunk.length) {
        if (state === 'body') {
          const take = Math.min(remaining, chunk.length - i)
          i += take
          remaining -= take
          if (remaining === 0) state = 'type'
          continue
        }
        if (state === 'head') {
          const take = Math.min(headNeed - headLength, chunk.length - i)
          head.push(Buffer.from(chunk.buffer, chunk.byteOffset + i, take))
          headLength += take
          remaining -= take
          i += take
          if (headLength < headNeed) continue
          const result = checkHead(head.length === 1 ? head[0]! : Buffer.concat(head))
          if (result === 'more') continue
          if (!result.ok) return result
          head = []
          state = remaining === 0 ? 'type' : 'body'
          continue
        }
        const byte = chunk[i++]!
        if (state === 'type') {
          state = 'length'
          type = byte >> 4
          qos = (byte >> 1) & 3
          remaining = 0
          multiplier = 1
          lengthBytes = 0
          continue
        }
        remaining += (byte & 0x7f) * multiplier
        multiplier *= 128
        lengthBytes++
        if (byte & 0x80) {
          // [MQTT-2.2.3]: at most four bytes of remaining length
          if (lengthBytes === 4) return fail('malformed', 'malformed remaining length (more than 4 bytes)')
          continue
        }
        const total = 1 + lengthBytes + remaining
        if (total > maxPacket) return fail('packet_too_large', `packet of ${total} bytes is over the ${maxPacket}-byte limit`)
        if (type === PUBLISH) {
          // [MQTT-3.3.1-4]: QoS 3 is malformed
          if (qos === 3) return fail('malformed', 'PUBLISH with QoS 3')
          if (remaining < 2) return fail('malformed', 'PUBLISH without a topic')
          state = 'head'
          head = []
          headLength = 0
          headNeed = 2
          continue
        }
        state = remaining === 0 ? 'type' : 'body'
      }
      return { ok: true }
    },
  }
}

export interface PacketGuardOptions {
  maxPacket: number
  /** the peer's address (for auth throttling and logs); a socket's own, or the HTTP upgrade's */
  remoteAddress?: string | undefined
  /** told once, when the connection is closed for an oversized or malformed packet */
  onViolation?: (code: ViolationCode, reason: string) => void
}

/** The stream Aedes gets: the peer's bytes after the size check, and writes straight through. */
export interface GuardedStream extends Duplex {
  remoteAddress: string | undefined
}

/**
 * Wraps a connection (TCP/TLS socket or a WebSocket stream) so Aedes reads only checked bytes.
 * Backpressure is kept both ways: a full Aedes side pauses the socket, a full socket delays writes.
 */
export function guardPackets(inner: Duplex, options: PacketGuardOptions): GuardedStream {
  const scanner = createPacketScanner(options.maxPacket)
  let violated = false
  const outer = new Duplex({
    // Aedes reads with read(null) and gets whole chunks, as from the socket itself
    read() {
      inner.resume()
    },
    write(chunk: Buffer, _encoding, callback) {
      if (inner.destroyed) return callback()
      if (inner.write(chunk)) callback()
      else inner.once('drain', () => callback())
    },
    // Aedes writes a packet as pieces into a corked stream (mqtt-packet: a PUBLISH is header,
    // length, topic length, topic, packet id, payload); uncorked, they arrive here together and
    // leave as one write. Without this each piece was its own write to the socket: six syscalls
    // and six TCP segments per control, a third of the hub's CPU in a 1,000-bay changeover (issue 17).
    writev(chunks: Array<{ chunk: Buffer }>, callback) {
      if (inner.destroyed) return callback()
      const bytes = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk))
      if (inner.write(bytes)) callback()
      else inner.once('drain', () => callback())
    },
    final(callback) {
      inner.end()
      callback()
    },
    destroy(error, callback) {
      inner.destroy()
      callback(error)
    },
  }) as GuardedStream
  outer.remoteAddress = options.remoteAddress ?? (inner as { remoteAddress?: string }).remoteAddress

  inner.on('data', (chunk: Buffer) => {
    if (violated) return
    const result = scanner.scan(chunk)
    if (!result.ok) {
      violated = true
      options.onViolation?.(result.code, result.reason)
      // Closing, not answering: MQTT 3.1.1 has no error packet for this ([MQTT-4.8.0-1]).
      // The error makes Aedes (and the connection tracker) see a protocol violation.
      outer.destroy(new Error(result.reason))
      return
    }
    if (!outer.push(chunk)) inner.pause()
  })
  inner.once('end', () => outer.push(null))
  inner.on('error', (error) => outer.destroy(error))
  inner.once('close', () => {
    if (!outer.destroyed) outer.destroy()
  })
  return outer
}
