/**
 * The fuzzer's own network clients, thin on purpose: a raw MQTT session over a TCP socket (so any
 * byte can be written after a good CONNECT), one-shot sockets, and HTTP / WebSocket senders that
 * pick their source address on 127.0.0.0/8 (so per-address throttles hit the attacker, not the checks).
 */
import { request as httpRequest } from 'node:http'
import { connect as tcpConnect, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'
import WebSocket from 'ws'
import { connectPacket, type ConnectFields } from './packets.js'

type Packet = { cmd: string; returnCode?: number; topic?: string; payload?: Buffer; qos?: number; messageId?: number; retain?: boolean; granted?: number[] }

/** A long-lived MQTT connection of one attacker identity; reopened when the hub closes it. */
export class RawSession {
  socket: Socket | undefined
  connected = false
  opens = 0
  closesByHub = 0
  private pingWaiters: Array<() => void> = []
  private ackWaiters = new Map<number, () => void>()
  private pinger: NodeJS.Timeout | undefined

  constructor(
    readonly label: string,
    private readonly opts: {
      port: number
      localAddress?: string
      connect: ConnectFields
      subscribe?: string[]
      onPublish?: (topic: string, payload: Buffer, retain: boolean) => void
    },
  ) {}

  /** Opens (again) and subscribes; resolves with the CONNACK code (0 = in). */
  open(timeoutMs = 10_000): Promise<number> {
    this.opens++
    return new Promise((resolve) => {
      const socket = tcpConnect({ port: this.opts.port, host: '127.0.0.1', ...(this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}) })
      socket.setNoDelay(true)
      this.socket = socket
      const parser = mqttPacket.parser({ protocolVersion: 4 })
      let settled = false
      const done = (code: number) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(code)
      }
      const timer = setTimeout(() => {
        socket.destroy()
        done(-1)
      }, timeoutMs)
      parser.on('packet', (packet) => {
        const p = packet as unknown as Packet
        if (p.cmd === 'connack') {
          if (p.returnCode === 0) {
            this.connected = true
            for (const [i, filter] of (this.opts.subscribe ?? []).entries()) {
              socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 60_000 + i, subscriptions: [{ topic: filter, qos: 1 }] } as mqttPacket.ISubscribePacket))
            }
          }
          done(p.returnCode ?? -1)
        } else if (p.cmd === 'publish') {
          if (p.qos === 1 && p.messageId) socket.write(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId }))
          if (p.qos === 2 && p.messageId) socket.write(mqttPacket.generate({ cmd: 'pubrec', messageId: p.messageId }))
          this.opts.onPublish?.(p.topic ?? '', p.payload ?? Buffer.alloc(0), p.retain === true)
        } else if (p.cmd === 'pingresp') {
          this.pingWaiters.shift()?.()
        } else if (p.cmd === 'puback' || p.cmd === 'pubcomp' || p.cmd === 'suback') {
          const id = p.messageId ?? -1
          this.ackWaiters.get(id)?.()
          this.ackWaiters.delete(id)
        } else if (p.cmd === 'pubrec') {
          socket.write(mqttPacket.generate({ cmd: 'pubrel', messageId: p.messageId ?? 1 }))
        }
      })
      parser.on('error', () => socket.destroy())
      socket.on('data', (chunk) => parser.parse(chunk))
      socket.on('error', () => {})
      socket.on('close', () => {
        if (this.connected) this.closesByHub++
        this.connected = false
        clearInterval(this.pinger)
        for (const w of this.pingWaiters.splice(0)) w()
        for (const w of this.ackWaiters.values()) w()
        this.ackWaiters.clear()
        done(-1)
      })
      socket.on('connect', () => socket.write(connectPacket(this.opts.connect)))
      clearInterval(this.pinger)
      this.pinger = setInterval(() => this.connected && socket.write(Buffer.from([0xc0, 0x00])), 4000)
    })
  }

  write(bytes: Buffer): boolean {
    if (!this.connected || !this.socket) return false
    this.socket.write(bytes)
    return true
  }

  /** PINGREQ and wait for PINGRESP: the hub has read everything sent before. false = no answer. */
  ping(timeoutMs: number): Promise<boolean> {
    if (!this.connected || !this.socket) return Promise.resolve(false)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.pingWaiters.indexOf(waiter)
        if (i >= 0) this.pingWaiters.splice(i, 1)
        resolve(false)
      }, timeoutMs)
      const waiter = () => {
        clearTimeout(timer)
        resolve(this.connected)
      }
      this.pingWaiters.push(waiter)
      this.socket!.write(Buffer.from([0xc0, 0x00]))
    })
  }

  close(): void {
    clearInterval(this.pinger)
    this.socket?.destroy()
    this.connected = false
  }
}

export interface OneShotResult {
  connack?: number
  /** from TCP connect to CONNACK */
  connackMs?: number
  /** the hub closed the socket (rather than our timeout) */
  closedByHub: boolean
  ms: number
}

/**
 * Opens a socket, writes `first` (a CONNECT, or junk), then, once CONNACK 0 arrived when `after`
 * is given, writes `after`; waits for the hub to close or `waitMs`, then destroys the socket.
 */
export function oneShot(port: number, localAddress: string, first: Buffer[], after: Buffer | undefined, waitMs: number, connackWaitMs = 5000): Promise<OneShotResult> {
  const started = performance.now()
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: '127.0.0.1', localAddress })
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    let connack: number | undefined
    let connackMs: number | undefined
    let connectedAt = started
    let timer: NodeJS.Timeout | undefined
    let finished = false
    const finish = (closedByHub: boolean) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ ...(connack !== undefined && { connack }), ...(connackMs !== undefined && { connackMs }), closedByHub, ms: performance.now() - started })
    }
    const arm = (ms: number) => {
      clearTimeout(timer)
      timer = setTimeout(() => finish(false), ms)
    }
    parser.on('packet', (packet) => {
      const p = packet as unknown as Packet
      if (p.cmd !== 'connack' || connack !== undefined) return
      connack = p.returnCode ?? -1
      connackMs = performance.now() - connectedAt
      if (after && connack === 0) {
        // half-close after the bytes: the hub reads all of them, then sees the end
        socket.end(after)
        arm(waitMs)
      } else if (after) finish(false)
    })
    parser.on('error', () => {})
    socket.on('data', (chunk) => {
      try {
        parser.parse(chunk)
      } catch {
        // the hub's answer is not our concern here
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => finish(true))
    socket.on('connect', () => {
      connectedAt = performance.now()
      for (const b of first) socket.write(b)
      // pre-auth junk: half-close at once (the hub still reads it all); else wait for CONNACK first
      if (!after) socket.end()
      arm(after ? connackWaitMs : waitMs)
    })
  })
}

export interface HttpResult {
  status: number
  ms: number
  body: string
  error?: string
}

/** One HTTP request on its own connection from `localAddress`; the body read is capped. */
export function httpSend(port: number, localAddress: string, method: string, path: string, headers: Record<string, string>, body?: Buffer, timeoutMs = 15_000): Promise<HttpResult> {
  const started = performance.now()
  return new Promise((resolve) => {
    // Node refuses to send a path with spaces or control characters: escape those, keep the rest raw
    const safePath = path.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c))
    let req: ReturnType<typeof httpRequest>
    try {
      req = httpRequest({ host: '127.0.0.1', port, method, path: safePath, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) }, localAddress, agent: false })
    } catch (error) {
      // a header Node will not put on the wire; such a case is counted, not sent
      return resolve({ status: 0, ms: 0, body: '', error: `unsendable: ${(error as NodeJS.ErrnoException).code ?? ''}` })
    }
    const timer = setTimeout(() => {
      req.destroy()
      resolve({ status: 0, ms: performance.now() - started, body: '', error: 'timeout' })
    }, timeoutMs)
    req.on('response', (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => {
        if (text.length < 4096) text += chunk.toString('utf8')
      })
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, body: text })
      })
      res.on('error', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, body: text })
      })
    })
    req.on('error', (error) => {
      clearTimeout(timer)
      // the hub may cut a request it refuses (e.g. an oversize body) before reading all of it
      resolve({ status: 0, ms: performance.now() - started, body: '', error: (error as NodeJS.ErrnoException).code ?? error.message })
    })
    if (body) req.end(body)
    else req.end()
  })
}

/** Raw bytes to the HTTP port; the status of the first response line, if any. */
export function rawHttpSend(port: number, localAddress: string, bytes: Buffer, waitMs: number): Promise<{ status?: number }> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: '127.0.0.1', localAddress })
    let text = ''
    const finish = () => {
      clearTimeout(timer)
      socket.destroy()
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      resolve(m ? { status: Number(m[1]) } : {})
    }
    const timer = setTimeout(finish, waitMs)
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1')
      if (text.includes('\r\n\r\n')) finish()
    })
    socket.on('error', () => {})
    socket.on('close', finish)
    socket.on('connect', () => socket.write(bytes))
  })
}

export interface WsResult {
  opened: boolean
  closeCode?: number
  httpStatus?: number
  messages: number
}

/** A WebSocket session: send the frames, then wait for the hub to close or `waitMs`. */
export function wsSession(port: number, localAddress: string, path: string, frames: Array<string | Buffer>, waitMs: number): Promise<WsResult> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { localAddress, handshakeTimeout: 10_000, maxPayload: 64 * 1024 * 1024 })
    const result: WsResult = { opened: false, messages: 0 }
    let timer: NodeJS.Timeout | undefined
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      ws.terminate()
      resolve(result)
    }
    ws.on('unexpected-response', (_req, res) => {
      result.httpStatus = res.statusCode
      res.resume()
      finish()
    })
    ws.on('open', () => {
      result.opened = true
      for (const f of frames) ws.send(f)
      timer = setTimeout(finish, waitMs)
    })
    ws.on('message', () => result.messages++)
    ws.on('close', (code) => {
      result.closeCode = code
      finish()
    })
    ws.on('error', () => finish())
  })
}
