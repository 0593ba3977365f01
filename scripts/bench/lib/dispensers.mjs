// @ts-check
/**
 * The dispenser side of `npm run bench -- changeover`, run as its own process (child_process.fork,
 * plain JS so it starts without a compiler). N lean MQTT 3.1.1 clients on raw sockets (mqtt-packet):
 * clean session, keep-alive 10 s, each speaking DESIGN §4 as the firmware does: a Report on
 * connect, on every change and every 30 s; every control applied at once and answered with a
 * Confirmation, then a Report of the new state. One timer for all clients (pings, heartbeats), so
 * the process costs the broker under test as little CPU as possible.
 *
 * Driven over IPC by the bench: {type:'connect', url, ids, password} -> {type:'connected'},
 * {type:'results'} -> {type:'results', received, ...}, {type:'disconnect'} -> {type:'disconnected'}.
 */
import net from 'node:net'
import mqttPacket from 'mqtt-packet'

const KEEPALIVE_S = 10
const HEARTBEAT_MS = 30_000
const CONNECT_CONCURRENCY = 64
const now = () => performance.timeOrigin + performance.now()

/** @typedef {{ status: string, session_id: number | null, scheduled_until: number | null, exchange_id: number, at: number }} Received */

/** @type {Client[]} */
let clients = []
/** @type {NodeJS.Timeout | undefined} */
let ticker

class Client {
  /** @param {number} id @param {string} host @param {number} port @param {string} password */
  constructor(id, host, port, password) {
    this.id = id
    this.node = `machine_${id}`
    this.host = host
    this.port = port
    this.password = password
    this.status = 'idle'
    /** @type {number | null} */ this.sessionId = null
    /** @type {number | null} */ this.until = null
    /** @type {Received[]} */ this.received = []
    this.messageId = 0
    this.confirmationsSent = 0
    this.unacked = 0
    this.lastSent = 0
    this.nextReport = now() + Math.random() * HEARTBEAT_MS
    this.closed = false
    this.ready = false
    this.startedAt = now()
    /** @type {net.Socket | undefined} */ this.socket = undefined
  }

  /** Resolves once subscribed (SUBACK). */
  connect() {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port, noDelay: true })
      this.socket = socket
      const parser = mqttPacket.parser({ protocolVersion: 4 })
      parser.on('packet', (packet) => {
        if (packet.cmd === 'connack') {
          if (packet.returnCode !== 0) return reject(new Error(`${this.node}: CONNACK ${packet.returnCode}`))
          this.send({ cmd: 'subscribe', messageId: this.nextId(), subscriptions: [{ topic: `external/machine/${this.id}`, qos: 1 }] })
        } else if (packet.cmd === 'suback') {
          this.ready = true
          this.report()
          resolve(undefined)
        } else if (packet.cmd === 'publish') this.onPublish(packet)
        else if (packet.cmd === 'puback') this.unacked--
      })
      parser.on('error', (error) => reject(error))
      socket.on('data', (chunk) => parser.parse(chunk))
      socket.on('error', (error) => reject(error))
      socket.on('close', () => {
        this.closed = true
        reject(new Error(`${this.node}: connection closed`))
      })
      this.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: KEEPALIVE_S, clientId: this.node, username: this.node, password: Buffer.from(this.password) })
    })
  }

  nextId() {
    this.messageId = (this.messageId % 65535) + 1
    return this.messageId
  }

  /** @param {import('mqtt-packet').Packet} packet */
  send(packet) {
    this.lastSent = now()
    this.socket?.write(mqttPacket.generate(packet))
  }

  /** @param {Record<string, unknown>} body */
  publish(body) {
    this.unacked++
    const payload = JSON.stringify({ ...body, origin_node: this.node, timestamp: Date.now() / 1000 })
    this.send({ cmd: 'publish', topic: 'external/handler', payload, qos: 1, retain: false, dup: false, messageId: this.nextId() })
  }

  /** @param {import('mqtt-packet').IPublishPacket} packet */
  onPublish(packet) {
    const at = now()
    if (packet.qos === 1) this.send({ cmd: 'puback', messageId: packet.messageId })
    let control
    try {
      control = JSON.parse(packet.payload.toString())
    } catch {
      return
    }
    if (control.request_type === 'machine') return this.report()
    if (typeof control.status !== 'string' || typeof control.exchange_id !== 'number') return
    this.received.push({ status: control.status, session_id: control.session_id ?? null, scheduled_until: control.scheduled_until ?? null, exchange_id: control.exchange_id, at })
    this.status = control.status
    this.sessionId = control.session_id ?? null
    this.until = control.scheduled_until ?? null
    this.confirmationsSent++
    this.publish({ success: true, machine_id: this.id, exchange_id: control.exchange_id, session_id: this.sessionId, status: this.status, destination_node: 'machine_handler' })
    this.report()
  }

  report() {
    this.nextReport = now() + HEARTBEAT_MS
    this.publish({
      machine_id: this.id,
      status: this.status,
      ball_level: 'full',
      scheduled_until: this.until,
      session_id: this.sessionId,
      firmware: 'bench-1.0.0',
      ip_address: `192.168.4.${(this.id % 240) + 10}`,
      rssi: -60,
      uptime_s: Math.round((now() - this.startedAt) / 1000),
    })
  }

  /** keep-alive and heartbeat, from the one shared timer */
  tick(t) {
    if (this.closed) return
    if (t >= this.nextReport) this.report()
    else if (t - this.lastSent > (KEEPALIVE_S - 3) * 1000) this.send({ cmd: 'pingreq' })
  }

  close() {
    if (this.closed) return
    this.closed = true
    try {
      this.send({ cmd: 'disconnect' })
    } catch {}
    this.socket?.end()
  }
}

/** @param {{ url: string, ids: number[], password: string }} msg */
async function connectAll(msg) {
  const url = new URL(msg.url)
  clients = msg.ids.map((id) => new Client(id, url.hostname, Number(url.port), msg.password))
  // Keep-alive from the first CONNACK on: connecting 1,000 takes longer than 1.5 x keep-alive.
  ticker = setInterval(() => {
    const t = now()
    for (const c of clients) if (c.ready) c.tick(t)
  }, 1000)
  let next = 0
  const worker = async () => {
    while (next < clients.length) {
      const client = clients[next++]
      await client.connect()
    }
  }
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker))
}

function results() {
  return {
    clients: clients.length,
    closed: clients.filter((c) => c.closed).length,
    confirmationsSent: clients.reduce((n, c) => n + c.confirmationsSent, 0),
    unacked: clients.reduce((n, c) => n + c.unacked, 0),
    received: clients.map((c) => ({ id: c.id, controls: c.received })),
  }
}

process.on('message', (/** @type {any} */ msg) => {
  const reply = (/** @type {object} */ m) => process.send?.(m)
  if (msg.type === 'connect') {
    const t0 = now()
    connectAll(msg).then(
      () => reply({ type: 'connected', ms: now() - t0 }),
      (error) => reply({ type: 'error', message: String(error?.message ?? error) }),
    )
  } else if (msg.type === 'results') reply({ type: 'results', ...results() })
  else if (msg.type === 'count') {
    // dispensers that got a control of this status at or after `sinceMs`
    const got = clients.filter((c) => c.received.some((r) => r.status === msg.status && r.at >= msg.sinceMs)).length
    reply({ type: 'count', got })
  }
  else if (msg.type === 'disconnect') {
    clearInterval(ticker)
    for (const c of clients) c.close()
    clients = []
    reply({ type: 'disconnected' })
  } else if (msg.type === 'exit') process.exit(0)
})
process.on('disconnect', () => process.exit(0))
