/**
 * The network doors of the broker: TCP, optional MQTT over WebSocket and TLS, each bound to the
 * configured host only. Port 0 picks a free port; the chosen ports are returned and logged.
 */
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import type { Duplex } from 'node:stream'
import { WebSocketServer, createWebSocketStream } from 'ws'
import type { Aedes } from 'aedes'
import type { Config } from '../config/index.js'
import { guardPackets, type ViolationCode } from './packet-guard.js'

export interface ListenerOptions {
  /** a connection closed for an oversized or malformed packet (before it was buffered) */
  onViolation?: (code: ViolationCode, reason: string, address: string | undefined) => void
}

export interface Listeners {
  ports: { mqtt: number; ws: number | null; tls: number | null }
  /** Stop accepting connections (existing ones stay until Aedes closes them). */
  stopAccepting(): void
  /** Stop accepting, end whatever connection is left (e.g. one still authenticating), wait until all are closed. */
  close(): Promise<void>
}

function listen(server: Server | HttpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

// Every socket of every listener, so close() can end the ones Aedes does not know (not yet connected).
function track(server: Server | HttpServer, sockets: Set<Socket>, event: 'connection' | 'secureConnection' = 'connection') {
  server.on(event, (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
}

export async function startListeners(broker: Aedes, config: Config, options: ListenerOptions = {}): Promise<Listeners> {
  // Every door reads packets through the size guard: DESIGN §9, HUB_MQTT_MAX_PACKET before Aedes buffers.
  const handle = (stream: Duplex, remoteAddress: string | undefined) => {
    const guarded = guardPackets(stream, {
      maxPacket: config.mqttMaxPacket,
      remoteAddress,
      onViolation: (code, reason) => options.onViolation?.(code, reason, remoteAddress),
    })
    broker.handle(guarded)
  }
  const servers: Array<Server | HttpServer> = []
  const sockets = new Set<Socket>()
  let wss: WebSocketServer | undefined
  let closed: Promise<unknown> | undefined
  // server.close() resolves only once its last connection has ended
  const stopAccepting = () => {
    closed ??= Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
  }
  const close = async () => {
    stopAccepting()
    wss?.clients.forEach((ws) => ws.terminate())
    for (const socket of sockets) socket.destroy()
    await closed
  }
  try {
    // DESIGN §7: without noDelay, Nagle adds ~44 ms to every command round trip.
    const tcp = createTcpServer({ noDelay: true }, (socket) => handle(socket, socket.remoteAddress))
    track(tcp, sockets)
    servers.push(tcp)
    const mqtt = await listen(tcp, config.mqttHost, config.mqttPort)

    let ws: number | null = null
    if (config.mqttWsPort !== null) {
      const http = createHttpServer()
      track(http, sockets)
      servers.push(http)
      // ws would otherwise buffer frames up to 100 MiB; one frame carries about one MQTT packet
      wss = new WebSocketServer({ server: http, maxPayload: config.mqttMaxPacket + 1024 })
      wss.on('connection', (socket, req) => handle(createWebSocketStream(socket), req.socket.remoteAddress))
      ws = await listen(http, config.mqttHost, config.mqttWsPort)
    }

    let tls: number | null = null
    if (config.mqttTlsPort !== null && config.tlsCert && config.tlsKey) {
      const server = createTlsServer({ cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }, (socket) => {
        socket.setNoDelay(true)
        handle(socket, socket.remoteAddress)
      })
      track(server, sockets)
      servers.push(server)
      tls = await listen(server, config.mqttHost, config.mqttTlsPort)
    }
    return { ports: { mqtt, ws, tls }, stopAccepting, close }
  } catch (error) {
    await close()
    throw error
  }
}
