/**
 * One virtual dispenser speaking DESIGN §4 exactly, as the ESP32 firmware does: clean session,
 * keep-alive 10 s, reports on connect / change / every 30 s, a Confirmation for every control,
 * and a local fail-safe that reverts to idle at `scheduled_until` measured on its own monotonic
 * clock, even with the hub gone. Fault modes make it misbehave on purpose for tests and demos.
 */
import { EventEmitter } from 'node:events'
import mqtt, { type MqttClient } from 'mqtt'
import { decoderFor } from '../protocol/codec.js'
import { MachineControl, type BallLevel, type CommandStatus } from '../protocol/messages.js'
import { machineNodeName, machineTopic, NodeNames, Topics } from '../protocol/topics.js'

export type FaultMode = 'none' | 'silent' | 'slow' | 'drops' | 'flaky'

export interface Faults {
  mode: FaultMode
  /** slow: delay before each Confirmation */
  slowMs?: number
  /** drops: connection dropped this often */
  dropEveryMs?: number
  /** flaky: share of Confirmations lost, 0..1 */
  lossRate?: number
}

export interface DispenserOptions {
  id: number
  url: string
  username?: string
  password?: string
  keepalive?: number
  reportIntervalMs?: number
  faults?: Faults
  /** minutes of dispensing per ball-level step (full -> medium -> ...) */
  minutesPerLevel?: number
  random?: () => number
  /** reconnect delay after a lost connection */
  reconnectMs?: number
}

export interface DispenserState {
  status: CommandStatus
  output: boolean
  session_id: number | null
  scheduled_until: number | null
  ball_level: BallLevel
}

const LEVELS: BallLevel[] = ['full', 'medium', 'low', 'urgent', 'empty']
const decodeControl = decoderFor(MachineControl)
const FIRMWARE = 'sim-1.0.0'

export class VirtualDispenser extends EventEmitter {
  readonly id: number
  readonly node: string
  state: DispenserState = { status: 'idle', output: false, session_id: null, scheduled_until: null, ball_level: 'full' }
  client: MqttClient | undefined
  private readonly options: Required<Omit<DispenserOptions, 'username' | 'password'>> & Pick<DispenserOptions, 'username' | 'password'>
  private failSafe: NodeJS.Timeout | undefined
  private heartbeat: NodeJS.Timeout | undefined
  private drain: NodeJS.Timeout | undefined
  private dropper: NodeJS.Timeout | undefined
  private readonly startedAt = performance.now()

  constructor(options: DispenserOptions) {
    super()
    this.id = options.id
    this.node = machineNodeName(options.id)
    this.options = {
      keepalive: 10,
      reportIntervalMs: 30_000,
      faults: { mode: 'none' },
      minutesPerLevel: 15,
      random: Math.random,
      reconnectMs: 1000,
      ...options,
    }
  }

  /** Resolves on the first CONNACK. */
  connect(): Promise<void> {
    const { url, username, password, keepalive, reconnectMs } = this.options
    const client = mqtt.connect(url, {
      clientId: this.node,
      clean: true,
      keepalive,
      reconnectPeriod: reconnectMs,
      connectTimeout: 30_000,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    })
    this.client = client
    client.on('connect', () => {
      client.subscribe(machineTopic(this.id), { qos: 1 }, () => this.report())
      this.emit('connected')
    })
    client.on('close', () => this.emit('disconnected'))
    client.on('message', (_topic, payload) => this.handle(payload))
    this.heartbeat = setInterval(() => this.report(), this.options.reportIntervalMs)
    if (this.options.faults.mode === 'drops') {
      this.dropper = setInterval(() => this.drop(), this.options.faults.dropEveryMs ?? 20_000)
    }
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', (error) => {
        if (!client.connected) reject(error)
      })
    })
  }

  /** Kill the socket without DISCONNECT (a pulled cable); mqtt.js reconnects after reconnectMs. */
  drop(): void {
    this.client?.stream.destroy()
  }

  refill(): void {
    this.setLevel('full')
  }

  async stop(): Promise<void> {
    for (const timer of [this.heartbeat, this.drain, this.dropper]) clearInterval(timer)
    clearTimeout(this.failSafe)
    await this.client?.endAsync(true)
  }

  private handle(payload: Buffer): void {
    let raw: unknown
    try {
      raw = JSON.parse(payload.toString('utf8'))
    } catch {
      return this.confirm({ success: false, message: '(payload): payload is not valid JSON' })
    }
    if (typeof raw === 'object' && raw !== null && (raw as { request_type?: unknown }).request_type === 'machine') return this.report()
    const decoded = decodeControl.check(raw)
    const exchange = (raw as { exchange_id?: unknown } | null)?.exchange_id
    if (!decoded.ok) return this.confirm({ success: false, message: decoded.message, ...(typeof exchange === 'number' ? { exchange_id: exchange } : {}) })
    const control = decoded.value
    if (control.machine_id !== this.id) {
      return this.confirm({ success: false, exchange_id: control.exchange_id, message: `machine_id: this is machine ${this.id}` })
    }
    if (this.options.faults.mode === 'silent') return
    this.apply(control)
    this.confirm({ success: true, exchange_id: control.exchange_id, session_id: control.session_id, status: control.status })
  }

  private apply(control: MachineControl): void {
    clearTimeout(this.failSafe)
    this.state = { ...this.state, status: control.status, session_id: control.session_id, scheduled_until: control.scheduled_until, output: control.status === 'active' }
    if (control.scheduled_until !== null && control.status !== 'idle') {
      // DESIGN §4: the deadline is measured locally from scheduled_until - timestamp, not from wall time
      const ms = Math.max(0, (control.scheduled_until - control.timestamp) * 1000)
      this.failSafe = setTimeout(() => this.revert(), ms)
    }
    this.setDraining(this.state.output)
    this.emit('changed', this.state)
    this.report()
  }

  private revert(): void {
    this.state = { ...this.state, status: 'idle', output: false, session_id: null, scheduled_until: null }
    this.setDraining(false)
    this.emit('changed', this.state)
    this.emit('failsafe', this.state)
    this.report()
  }

  private setDraining(on: boolean): void {
    clearInterval(this.drain)
    this.drain = undefined
    if (!on) return
    this.drain = setInterval(() => {
      const next = LEVELS[Math.min(LEVELS.indexOf(this.state.ball_level) + 1, LEVELS.length - 1)]!
      this.setLevel(next)
    }, this.options.minutesPerLevel * 60_000)
  }

  private setLevel(level: BallLevel): void {
    if (level === this.state.ball_level) return
    this.state = { ...this.state, ball_level: level }
    this.emit('changed', this.state)
    this.report()
  }

  private confirm(body: Record<string, unknown>): void {
    const { mode, slowMs = 3000, lossRate = 0.3 } = this.options.faults
    if (mode === 'flaky' && this.options.random() < lossRate) return
    const send = () => this.publish({ ...body, machine_id: this.id, destination_node: NodeNames.machineHandler })
    if (mode === 'slow') setTimeout(send, slowMs)
    else send()
  }

  report(): void {
    const { status, ball_level, scheduled_until, session_id } = this.state
    this.publish({
      machine_id: this.id,
      status,
      ball_level,
      scheduled_until,
      session_id,
      firmware: FIRMWARE,
      ip_address: `192.168.4.${(this.id % 240) + 10}`,
      rssi: -55 - (this.id % 20),
      uptime_s: Math.round((performance.now() - this.startedAt) / 1000),
    })
  }

  private publish(body: Record<string, unknown>): void {
    if (!this.client?.connected) return
    this.client.publish(Topics.machineHandler, JSON.stringify({ ...body, origin_node: this.node, timestamp: Date.now() / 1000 }), { qos: 1 })
  }
}
