/**
 * The composition root (DESIGN §2, STYLE §2.4 start order): config -> storage -> broker ->
 * modules (loaded and reconciled) -> MQTT adapters -> HTTP. The only file that knows every module.
 * Stop runs in reverse: HTTP -> simulator -> adapters -> modules -> broker -> storage.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import type { Config } from './config/index.js'
import { createBroker, createCredentialStore, ensureAdminToken, type Broker, type CredentialStore, type EnrollmentGate } from './broker/index.js'
import { ensureEnrollSecret } from './broker/admin-token.js'
import { issueMachineSecret } from './broker/credentials.js'
import { createFleet, type Fleet } from './fleet/index.js'
import { buildHttpApp, routesOf, type RouteInfo } from './interfaces/http/app.js'
import { createAdminFeed } from './interfaces/mqtt/admin-feed.js'
import { createHandlerNode } from './interfaces/mqtt/handler-node.js'
import { createManagerNode } from './interfaces/mqtt/manager-node.js'
import { createNodeReplier } from './interfaces/mqtt/node-replier.js'
import { createTrustedClock, systemClock, type Clock } from './lib/clock.js'
import { EventBus } from './lib/event-bus.js'
import { makePrivate } from './lib/private-files.js'
import { useSystemZone } from './lib/tzdb.js'
import type { Logger } from './lib/logger.js'
import { createMachines, type Machines } from './machines/index.js'
import type { HubEvents } from './protocol/events.js'
import { NodeNames } from './protocol/topics.js'
import { compileCalendar, createScheduling, readLiveSessions, type ArchiveDb, type SessionDb } from './scheduling/index.js'
import type { Scheduling } from './scheduling/types.js'
import { createLink, type Link } from './link/index.js'
import { createConfirmationStore, createSystemTimeSync, createTimekeeping, systemBoot, type Timekeeping, type TimeSyncPort } from './timekeeping/index.js'
import { createStaff, type SignIn, type Staff } from './staff/index.js'
import { createAudit, type Audit } from './audit/index.js'
import { createReports } from './reports/index.js'
import { createCredits, type Credits } from './credits/index.js'
import { createAffected, type Affected } from './affected/index.js'
import { clockFormatter } from './machines/desired.js'
import { createPayments, createPrices, type Payments, type PriceDb } from './payments/index.js'
import { createHubMetrics } from './metrics/index.js'

export interface HubOptions {
  config: Config
  log: Logger
  clock?: Clock
  /** credentials to use instead of `${dataDir}/credentials.json` (benchmarks with in-memory secrets) */
  credentials?: CredentialStore
  /** is the system clock synchronised (default: ask chrony / timesyncd); tests give a fake state */
  timeSync?: TimeSyncPort
}

export interface Hub {
  config: Config
  events: EventBus<HubEvents>
  broker: Broker
  machines: Machines
  scheduling: Scheduling
  link: Link
  timekeeping: Timekeeping
  staff: Staff
  audit: Audit
  fleet: Fleet
  credits: Credits
  affected: Affected
  payments: Payments
  adminToken: string
  /** every HTTP route served (the role table test walks them all) */
  routes(): readonly RouteInfo[]
  ports: { mqtt: number; http: number; mqttWs: number | null; mqttTls: number | null }
  close(): Promise<void>
}

/** Waits (bounded) until the hub counts `count` machines online: presence comes from the broker. */
async function untilOnline(machines: Machines, count: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (machines.stats().online < count && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
}

export async function createHub({ config, log, clock: baseClock = systemClock, ...options }: HubOptions): Promise<Hub> {
  // issue 15: every module runs on this one clock, so a staff-confirmed time applies everywhere at once
  const clock = createTrustedClock(baseClock)
  // local times from the zone's tz database file, not Intl (~8 MB of RSS, issue 17); loadConfig did
  // it already for a config it read
  useSystemZone(config.timezone)
  const stops: Array<() => Promise<void> | void> = []
  const close = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop()
      } catch (error) {
        log.error({ err: error }, 'error while stopping')
      }
    }
  }
  try {
    await mkdir(config.dataDir, { recursive: true, mode: 0o750 })
    // LevelDB folders 0700, files 0600: the broker's sessions and the state are nobody else's
    for (const part of ['state', 'broker', 'credentials.json', 'admin-token']) await makePrivate(join(config.dataDir, part))
    const db = new Level<string, unknown>(join(config.dataDir, 'state'), { valueEncoding: 'json' })
    await db.open()
    stops.push(() => db.close())
    // issue 17, start-up: the live sessions are read now, in LevelDB's thread, while the broker and
    // the modules before scheduling start (nothing writes them before scheduling's writer starts);
    // scheduling.start() awaits this read, and a failed read fails the start there.
    const sessionsDb: SessionDb = db.sublevel('sessions', { valueEncoding: 'json' })
    const archiveDb: ArchiveDb = db.sublevel('sessions-archive', { valueEncoding: 'json' })
    const sessionsRead = readLiveSessions(sessionsDb, archiveDb)
    sessionsRead.catch(() => {}) // awaited by scheduling.start(); a failure before then must not be unhandled

    const events = new EventBus<HubEvents>(log.child({ module: 'events' }))
    // /metrics: the hub's own registry (issue 17), timing commands from events and bookings at both doors
    const metrics = createHubMetrics({ events, onError: (err, family) => log.error({ err, family }, 'metric read failed') })
    stops.push(() => metrics.stop())
    const timekeeping = createTimekeeping({
      clock,
      timeSync: options.timeSync ?? createSystemTimeSync(),
      events,
      log: log.child({ module: 'clock' }),
      store: createConfirmationStore(config.dataDir),
      boot: systemBoot,
    })
    // The first time-sync check waits on a child process (chronyc / timedatectl): it runs while the
    // broker starts; what decides by the time (sign-ins, audit retention, sessions) starts after it.
    const timekeepingStarted = timekeeping.start()
    timekeepingStarted.catch(() => {}) // awaited below; a failure before then must not be unhandled
    stops.push(() => timekeeping.stop())
    const credentials = options.credentials ?? createCredentialStore({ dataDir: config.dataDir })
    const adminToken = await ensureAdminToken({ config, log })

    // Where dispensers download firmware: known once HTTP listens (its port may be 0).
    let firmwareBase = config.firmwareUrl ?? ''
    // The fleet owns the enrollment window; the broker asks it at each enrollment login.
    let enrollmentGate: EnrollmentGate | undefined
    const broker = await createBroker({
      config,
      log: log.child({ module: 'broker' }),
      credentials,
      clock,
      enrollment: { isOpen: () => enrollmentGate?.isOpen() ?? false, verify: (secret) => enrollmentGate?.verify(secret) ?? false },
      // DESIGN §4: refusals are counted as bad input; a fixed topic label keeps the metric's cardinality bounded
      onRefused: (who, what, reason) =>
        events.emit('input.rejected', { topic: what.startsWith('publish') ? 'acl:publish' : 'acl:subscribe', client: who.clientId, message: `${what}: ${reason}` }),
    })
    stops.push(() => broker.close())

    await timekeepingStarted
    const staff = createStaff({
      dataDir: config.dataDir,
      db: db.sublevel<string, SignIn>('staff-sign-ins', { valueEncoding: 'json' }),
      clock,
      log: log.child({ module: 'staff' }),
      idleMinutes: config.staffIdleMinutes,
      sessionHours: config.staffSessionHours,
    })
    await staff.start()
    stops.push(() => staff.stop())
    const audit = createAudit({
      db,
      clock,
      log: log.child({ module: 'audit' }),
      retentionDays: config.auditRetentionDays,
      journal: () => staff.journal(),
      credentialJournal: () => credentials.journal(),
    })
    await audit.start()
    stops.push(() => audit.stop())

    // issue 12: the price table, read before anything is booked; scheduling asks its quotes through a port.
    const prices = createPrices({ config, clock, db: db.sublevel('prices', { valueEncoding: 'json' }) as unknown as PriceDb, audit: audit.log })
    await prices.load()
    // Scheduling never imports machines: it asks bay health through this port (issue 11).
    let machinesRef: Machines | undefined
    const scheduling = createScheduling({
      config,
      clock,
      events,
      store: sessionsDb,
      archive: archiveDb,
      loaded: sessionsRead,
      log: log.child({ module: 'scheduling' }),
      audit: audit.log,
      // issue 14: the venue calendar, written in the sessions' batches with its audit entry
      calendarDb: db.sublevel('calendar', { valueEncoding: 'json' }),
      bayHealth: (id, nowS) => machinesRef?.health(id, nowS),
      // issue 17: a session's start or end drives its bays before the step's durable write
      onTransition: (ids) => machinesRef?.drive(ids),
      // A `free` calendar window (issue 14) costs nothing: no price, so no hold.
      pricing: (booking) => {
        const quote = prices.quote(booking)
        return quote && scheduling.isFreeAt(booking.machine_id, booking.start_time, booking.end_time) ? { amount: 0, currency: quote.currency } : quote
      },
    })
    const machines = createMachines({
      config,
      clock,
      events,
      broker,
      store: db.sublevel('machines', { valueEncoding: 'json' }),
      log: log.child({ module: 'machines' }),
      audit: audit.log,
      desiredStateFor: (id, nowS) => scheduling.desiredStateFor(id, nowS),
      closingAfter: (nowS) => scheduling.closingAfter(nowS),
      bookingsOn: (id, fromS, toS) =>
        scheduling.list({ machineId: id, from: fromS, ...(toS !== null && { to: toS }) }).filter((s) => s.status === 'reserved' || s.status === 'active'),
    })
    machinesRef = machines
    // A session change (booked, activated, moved, ended) re-drives exactly its bays.
    events.on('session.changed', 'hub', ({ session, previous }) => {
      machines.reconcile([...new Set([...session.machine_id, ...(previous?.machine_id ?? [])])])
    })
    // The hub's time stepped (staff confirmed it, or the clock synchronised): sessions due at the
    // new time start or end now, and every bay gets the state that time requires.
    events.on('clock.changed', 'hub', ({ stepMs }) => {
      if (stepMs === 0) return
      scheduling.recheck()
      machines.reconcile()
    })
    await scheduling.start()
    stops.push(() => scheduling.stop())
    await machines.start()
    stops.push(() => machines.stop())
    const payments = createPayments({ config, clock, log: log.child({ module: 'payments' }), prices, scheduling })
    await payments.start()
    stops.push(() => payments.stop())

    const fleet = createFleet({
      broker,
      db: db.sublevel('fleet', { valueEncoding: 'json' }) as never,
      audit: audit.log,
      clock,
      log: log.child({ module: 'fleet' }),
      machineIds: config.machineIds,
      maxPending: config.enrollMaxPending,
      enrollSecret: await ensureEnrollSecret({ config, log }),
      issueSecret: (id, actor) => issueMachineSecret(config.dataDir, id, actor),
      dataDir: config.dataDir,
      firmwareMaxBytes: config.firmwareMaxBytes,
      firmwarePublicKey: config.firmwarePublicKey,
      updateTimeoutS: config.firmwareUpdateTimeoutS,
      // Only idle bays update: a bay in a session (or due one) updates after it ends.
      busy: (id, nowS) => {
        const m = machines.get(id)
        if (!m || !m.online) return 'offline: updates when it is back'
        if (scheduling.desiredStateFor(id, nowS)?.status === 'active' || m.status === 'active') return 'in a session: updates after it ends'
        if (m.status !== 'idle') return `${m.status}: updates once idle`
        return undefined
      },
      firmwareOf: (id) => machines.get(id)?.firmware ?? null,
      baseUrl: () => firmwareBase,
    })
    await fleet.start()
    enrollmentGate = fleet.enrollment.gate
    stops.push(() => fleet.stop())
    // Sessions on bays that stop working, and credits for the minutes they lose (issue 11).
    const credits = createCredits({
      db: db.sublevel('credits', { valueEncoding: 'json' }),
      clock,
      events,
      log: log.child({ module: 'credits' }),
      audit: audit.log,
      fmt: clockFormatter(config.timezone),
    })
    await credits.load()
    const affected = createAffected({
      clock,
      events,
      log: log.child({ module: 'affected' }),
      db: db.sublevel('affected', { valueEncoding: 'json' }),
      timeZone: config.timezone,
      machineIds: config.machineIds,
      sessions: scheduling,
      health: (id, nowS) => machines.health(id, nowS),
      dispensing: (id) => machines.get(id)?.desired?.status === 'active',
      credits,
      alert: (id, message) => machines.noteAlert(id, 'session_affected', message),
    })
    await affected.start()
    stops.push(() => affected.stop())
    // issue 14: a confirmed calendar change over bookings flags them like a bay going to
    // maintenance (alert, session.affected to the owner, movable via /move).
    events.on('calendar.changed', 'hub', ({ affected: hit }) => {
      void (async () => {
        for (const a of hit) await affected.flagAffected([a.session_id], 'calendar', `session ${a.session_id}: ${a.reason}`)
      })().catch((error: unknown) => log.error({ err: error }, 'flagging sessions the calendar affects failed'))
    })

    const replierDeps = { broker, clock, events }
    const managerNode = createManagerNode({
      broker,
      scheduling,
      clock,
      timeZone: config.timezone,
      log: log.child({ module: 'manager-node' }),
      replier: createNodeReplier({ ...replierDeps, from: NodeNames.scheduleManager }),
      bookings: metrics,
    })
    stops.push(() => managerNode.stop())
    const handlerNode = createHandlerNode({
      broker,
      machines,
      log: log.child({ module: 'handler-node' }),
      replier: createNodeReplier({ ...replierDeps, from: NodeNames.machineHandler }),
    })
    stops.push(() => handlerNode.stop())
    const adminFeed = createAdminFeed({ broker, events, clock, log: log.child({ module: 'admin-feed' }) })
    stops.push(() => adminFeed.stop())


    const link = await createLink({ config, clock, log: log.child({ module: 'link' }), events, scheduling, broker, db })
    stops.push(() => link.stop())

    // Exports and utilization over live and archived sessions; payments plug their price in with `priceOf`.
    const reports = createReports({ config, clock, history: (range) => scheduling.history(range), audit, calendar: () => compileCalendar(scheduling.calendar().calendar, config.timezone) })
    metrics.add(...link.metrics(), ...broker.metrics(), ...timekeeping.metrics())
    const http = await buildHttpApp({
      reports,
      config,
      log,
      clock,
      events,
      machines,
      scheduling,
      adminToken,
      timekeeping,
      staff,
      audit,
      fleet,
      credits,
      affected,
      payments,
      verifyToken: (token) => credentials.verifyApiToken(token),
      health: () => ({ link: link.status() }),
      metrics,
    })
    await http.register(link.webhook)
    await http.listen({ host: config.httpHost, port: config.httpPort })
    stops.push(() => http.close())
    const httpAddress = http.server.address()
    const httpPort = typeof httpAddress === 'object' && httpAddress ? httpAddress.port : config.httpPort
    if (!config.firmwareUrl) {
      const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? '192.168.4.1' : config.httpHost
      firmwareBase = `http://${host}:${httpPort}`
    }

    if (config.simulate > 0) {
      // The demo's dispensers log in like real ones, with secrets that exist only in memory.
      const host = config.mqttHost === '0.0.0.0' || config.mqttHost === '::' ? '127.0.0.1' : config.mqttHost
      // (the demo's MQTT client library is loaded only here: issue 17, start-up and RSS)
      const { createSimulator } = await import('./simulator/index.js')
      const simulator = createSimulator({
        url: `mqtt://${host}:${broker.ports.mqtt}`,
        ids: config.machineIds.slice(0, config.simulate),
        credentials: (id) => ({ username: `machine_${id}`, password: credentials.issueEphemeralMachineSecret(id) }),
        log: log.child({ module: 'simulator' }),
      })
      await simulator.start()
      stops.push(() => simulator.stop())
      await untilOnline(machines, config.simulate, 10_000)
      log.info({ online: machines.stats().online, machines: config.machineIds.length }, `${machines.stats().online} dispensers online`)
    }

    const ports = { mqtt: broker.ports.mqtt, http: httpPort, mqttWs: broker.ports.ws, mqttTls: broker.ports.tls }
    log.info({ mqttPort: ports.mqtt, httpPort: ports.http, mqttWsPort: ports.mqttWs, mqttTlsPort: ports.mqttTls, machines: config.machineIds.length }, 'hub ready')
    return { config, events, broker, machines, scheduling, link, timekeeping, staff, audit, fleet, credits, affected, payments, adminToken, routes: () => routesOf(http), ports, close }
  } catch (error) {
    await close()
    throw error
  }
}
