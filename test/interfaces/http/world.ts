/**
 * One HTTP world per test (RULES §6): config, FakeClock, event bus, the real scheduling and
 * machines modules on a real LevelDB in t.testdir(), an in-memory BrokerPort playing the
 * dispensers, and the app from buildHttpApp. Everything is torn down with the test.
 */
import { join } from 'node:path'
import type { Test } from 'tap'
import { Level } from 'level'
import { pino } from 'pino'
import { loadConfig, type Config } from '../../../src/config/index.js'
import { EventBus } from '../../../src/lib/event-bus.js'
import type { HubEvents } from '../../../src/protocol/events.js'
import type { BallLevel, MachineControl, MachineReport } from '../../../src/protocol/messages.js'
import { Topics, machineIdFromTopic, machineNodeName } from '../../../src/protocol/topics.js'
import type { PublishOptions } from '../../../src/broker/port.js'
import { buildHttpApp, type HttpApp } from '../../../src/interfaces/http/app.js'
import type { Principal } from '../../../src/interfaces/http/deps.js'
import { createMachines, type MachineDb, type Machines } from '../../../src/machines/index.js'
import { createScheduling, type StoredSession } from '../../../src/scheduling/index.js'
import type { Scheduling } from '../../../src/scheduling/types.js'
import { createStaff, type SignIn, type Staff } from '../../../src/staff/index.js'
import { createAudit, type Audit } from '../../../src/audit/index.js'
import { createPayments, createPrices, type Payments, type PriceDb } from '../../../src/payments/index.js'
import { createCredits, type Credits } from '../../../src/credits/index.js'
import { createAffected, type Affected } from '../../../src/affected/index.js'
import type { StaffRole } from '../../../src/protocol/permissions.js'
import { FakeBroker } from '../../helpers/fake-broker.js'
import { FakeClock } from '../../helpers/fake-clock.js'
import { createTrustedClock, type TrustedClock } from '../../../src/lib/clock.js'
import { createTimekeeping, type Timekeeping, type TimeSyncPort } from '../../../src/timekeeping/index.js'
import type { HubMetrics } from '../../../src/metrics/index.js'

export const ADMIN_TOKEN = 'admin-token-0123456789abcdef'
export const TOKENS: Record<string, Principal> = {
  'kiosk-token-1': { name: 'kiosk_interface', role: 'kiosk' },
  'kiosk-token-2': { name: 'kiosk_lobby', role: 'kiosk' },
  'reservation-token': { name: 'reservation_interface', role: 'reservation' },
  'monitor-token': { name: 'prometheus', role: 'monitor' },
}

export type As = 'admin' | 'kiosk' | 'kiosk2' | 'reservation' | 'none' | 'bad'
const tokenFor: Record<As, string | undefined> = {
  admin: ADMIN_TOKEN,
  kiosk: 'kiosk-token-1',
  kiosk2: 'kiosk-token-2',
  reservation: 'reservation-token',
  none: undefined,
  bad: 'not-a-token',
}

export function auth(as: As): Record<string, string> {
  const token = tokenFor[as]
  return token ? { authorization: `Bearer ${token}` } : {}
}

/**
 * The in-memory broker with well-behaved dispensers behind it: a connected machine confirms
 * every control and reports its new state, as the firmware does (DESIGN §4).
 */
export class DispenserBroker extends FakeBroker {
  readonly online = new Map<number, BallLevel>()
  /** connected dispensers that never answer (their commands fail after the retries) */
  readonly mute = new Set<number>()

  override async publish(topic: string, payload: object, options: PublishOptions = {}): Promise<void> {
    await super.publish(topic, payload, options)
    const id = machineIdFromTopic(topic)
    const level = id === undefined ? undefined : this.online.get(id)
    if (id === undefined || level === undefined || this.mute.has(id)) return
    const client = FakeBroker.machine(id)
    const control = payload as Partial<MachineControl> & { request_type?: string }
    setImmediate(() => {
      if (control.request_type === undefined && control.exchange_id !== undefined) {
        const { exchange_id, session_id = null, status } = control
        this.inject(Topics.machineHandler, { success: true, exchange_id, session_id, status, machine_id: id, origin_node: machineNodeName(id) }, client)
      }
      const status = control.status ?? 'idle'
      this.inject(Topics.machineHandler, { machine_id: id, status, ball_level: level, scheduled_until: control.scheduled_until ?? null, session_id: control.session_id ?? null }, client)
    })
  }
}

export interface World {
  app: HttpApp
  clock: FakeClock
  config: Config
  events: EventBus<HubEvents>
  broker: DispenserBroker
  scheduling: Scheduling & { idle(): Promise<void>; archiveNow(): Promise<number>; stats(): { batches: number; steps: number } }
  machines: Machines
  /** the hub's clock over the FakeClock (issue 15): what the modules run on */
  hubClock: TrustedClock
  /** with `timeSync` given: the clock trust service (/api/clock, health, banner) */
  timekeeping?: Timekeeping
  staff: Staff
  audit: Audit
  /** issue 12: prices (none saved: nothing is charged) and the payment providers */
  payments: Payments
  /** with `affected: true`: sessions on broken bays and their credits (issue 11) */
  affected?: Affected
  credits?: Credits
}

export interface WorldOptions {
  health?: () => object
  /** the hub's metrics (default: the app's own) */
  metrics?: HubMetrics
  /** a (fake) time-sync state: the world gets timekeeping and its routes */
  timeSync?: TimeSyncPort
  /** where the FakeClock starts (default 2026-01-10 10:00 UTC) */
  startMs?: number
  /** extra HUB_* settings */
  env?: Record<string, string>
  /** wire the affected-sessions module and credits (issue 11), as src/hub.ts does */
  affected?: boolean
}

export async function buildWorld(t: Test, options: WorldOptions = {}): Promise<World> {
  const { timeSync, startMs, env, affected: withAffected, ...extra } = options
  const dir = t.testdir()
  const config = loadConfig({ HUB_MACHINES: '1-20', HUB_TIMEZONE: 'UTC', HUB_DATA_DIR: dir, ...env })
  const fakeClock = new FakeClock(startMs ?? Date.UTC(2026, 0, 10, 10, 0, 0))
  const clock = createTrustedClock(fakeClock)
  const log = pino({ level: 'silent' })
  const events = new EventBus<HubEvents>(log)
  const timekeeping = timeSync ? createTimekeeping({ clock, timeSync, events, log }) : undefined
  await timekeeping?.start()
  const broker = new DispenserBroker()
  // RULES §8: one LevelDB, a sublevel per module.
  const db = new Level<string, unknown>(join(dir, 'state'), { valueEncoding: 'json' })
  const staffRef: { staff?: Staff } = {}
  const audit = createAudit({ db, clock, log, retentionDays: config.auditRetentionDays, journal: () => staffRef.staff?.journal() ?? [] })
  await audit.start()
  // As in src/hub.ts: the price table first (scheduling asks its quotes through a port).
  const prices = createPrices({ config, clock, db: db.sublevel('prices', { valueEncoding: 'json' }) as unknown as PriceDb, audit: audit.log })
  await prices.load()
  // As in src/hub.ts: scheduling asks bay health through a port, never importing machines.
  let machinesRef: Machines | undefined
  const scheduling = createScheduling({
    config, clock, events, log,
    store: db.sublevel<string, StoredSession>('sessions', { valueEncoding: 'json' }),
    archive: db.sublevel('sessions-archive', { valueEncoding: 'json' }),
    calendarDb: db.sublevel('calendar', { valueEncoding: 'json' }),
    bayHealth: (id, nowS) => machinesRef?.health(id, nowS),
    audit: audit.log,
    pricing: (booking) => prices.quote(booking),
  })
  const machines = createMachines({
    config, clock, events, broker, log,
    store: db.sublevel('machines', { valueEncoding: 'json' }) as unknown as MachineDb,
    audit: audit.log,
    desiredStateFor: (id, nowS) => scheduling.desiredStateFor(id, nowS),
    closingAfter: (nowS) => scheduling.closingAfter(nowS),
    bookingsOn: (id, fromS, toS) =>
      scheduling.list({ machineId: id, from: fromS, ...(toS !== null && { to: toS }) }).filter((s) => s.status === 'reserved' || s.status === 'active'),
  })
  machinesRef = machines
  // STYLE §2.3: a session change re-drives the machines it touches.
  events.on('session.changed', 'test-wiring', (e) => machines.reconcile(e.session.machine_id))
  // as src/hub.ts: a clock step re-runs the lifecycle at the new time
  events.on('clock.changed', 'test-wiring', ({ stepMs }) => {
    if (stepMs !== 0) {
      scheduling.recheck()
      machines.reconcile()
    }
  })
  await scheduling.start()
  await machines.start()
  const payments = createPayments({ config, clock, log, prices, scheduling })
  await payments.start()
  const staff = createStaff({
    dataDir: dir, clock, log, idleMinutes: config.staffIdleMinutes, sessionHours: config.staffSessionHours,
    db: db.sublevel<string, SignIn>('staff-sign-ins', { valueEncoding: 'json' }),
  })
  await staff.start()
  staffRef.staff = staff
  const credits = withAffected
    ? createCredits({ db: db.sublevel('credits', { valueEncoding: 'json' }) as never, clock, events, log, audit: audit.log, fmt: (s) => new Date(s * 1000).toISOString().slice(11, 19) })
    : undefined
  await credits?.load()
  const affected = credits
    ? createAffected({
        clock, events, log, credits, timeZone: config.timezone, machineIds: config.machineIds, sessions: scheduling,
        db: db.sublevel('affected', { valueEncoding: 'json' }) as never,
        health: (id, nowS) => machines.health(id, nowS),
        dispensing: (id) => machines.get(id)?.desired?.status === 'active',
        alert: (id, message) => machines.noteAlert(id, 'session_affected', message),
      })
    : undefined
  await affected?.start()
  const app = await buildHttpApp({
    config, log, clock, events, machines, scheduling, staff, audit, payments, adminToken: ADMIN_TOKEN, ...(credits && affected && { credits, affected }),
    verifyToken: (token) => TOKENS[token], version: '9.9.9', ...extra, ...(timekeeping && { timekeeping }),
  })
  t.teardown(async () => {
    timekeeping?.stop()
    await app.close()
    await payments.stop()
    await affected?.stop()
    await machines.stop()
    await scheduling.stop()
    await db.close()
  })
  return { app, clock: fakeClock, config, events, broker, scheduling, machines, staff, audit, payments, hubClock: clock, ...(timekeeping && { timekeeping }), ...(credits && affected && { credits, affected }) }
}

/** A dispenser connects and reports (DESIGN §4: report on connect). */
export async function connectMachine(w: World, id: number, report: Partial<MachineReport> = {}): Promise<void> {
  const client = FakeBroker.machine(id)
  w.broker.online.set(id, report.ball_level ?? 'full')
  w.broker.connect(client)
  w.broker.inject(Topics.machineHandler, { machine_id: id, status: 'idle', ball_level: 'full', ...report }, client)
  await w.clock.advance(0)
}

export async function disconnectMachine(w: World, id: number): Promise<void> {
  w.broker.online.delete(id)
  w.broker.disconnect(FakeBroker.machine(id), 'keepalive')
  await w.clock.advance(0)
}

/** Let due timers, durable writes and dispenser replies finish without moving time. */
export async function settle(w: World): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await w.clock.advance(0)
    await w.scheduling.idle()
  }
}

/** Let fake time pass in steps, waiting for the durable writes each step started. */
export async function runFor(w: World, ms: number, stepMs = 1000): Promise<void> {
  const end = w.clock.now() + ms
  while (w.clock.now() < end) {
    await w.clock.advance(Math.min(stepMs, end - w.clock.now()))
    await w.scheduling.idle()
    await w.clock.advance(0)
  }
}

/** epoch seconds of the world's clock plus `minutes` */
export function inMinutes(world: World, minutes: number): number {
  return world.clock.now() / 1000 + minutes * 60
}

/** Adds a staff user and signs in through POST /api/auth/login; returns the cookie header. */
export async function signIn(w: World, username: string, role: StaffRole, password = `password-${username}`): Promise<Record<string, string>> {
  const added = await w.staff.change({ kind: 'add', username, role, password }, 'node:test')
  if (!added.ok) throw new Error(added.message)
  const res = await w.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } })
  if (res.statusCode !== 200) throw new Error(`login ${res.statusCode}: ${res.body}`)
  const cookie = String(res.headers['set-cookie']).split(';')[0]!
  return { cookie }
}
