/**
 * createMachines: the machines module (DESIGN §2, §4, §5). Registry, presence from broker
 * connection events, commands with confirmation, the reconciler, telemetry and alerts, all
 * persisted in one sublevel. Talks to dispensers only through BrokerPort.
 */
import type { Logger } from 'pino'
import type { BrokerPort, DisconnectReason } from '../broker/port.js'
import { machineOf, type ClientIdentity } from '../protocol/identity.js'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import { err, ok } from '../lib/result.js'
import type { HubEvents } from '../protocol/events.js'
import { createMachineTable } from './machine-table.js'
import { createCommandDriver } from './command-driver.js'
import { clockFormatter, decideOverride, isLive } from './desired.js'
import { createDispenserAdapter } from './dispenser-adapter.js'
import { createOutcomes, createReportHandler } from './handlers.js'
import { bayProblem } from './health.js'
import { clientDown, clientUp, describeReason } from './presence.js'
import { createReconciler } from './reconciler.js'
import { createRegistry } from './registry.js'
import { createMachineStore, type MachineDb } from './store.js'
import type { MachineOverride } from '../protocol/messages.js'
import type { BookingsOnFn, CommandRequester, DesiredStateFn, Machines } from './types.js'
import { guardOverride } from './guard.js'
import { acknowledgeDraft, overrideDraft } from '../audit/drafts.js'
import type { AuditLog } from '../audit/log.js'
import { SYSTEM, type Actor } from '../protocol/actor.js'

export type { Machines, DesiredStateFn, CommandRequester, MachinesErrorCode } from './types.js'
export type { MachineDb } from './store.js'

export interface MachinesDeps {
  config: Config
  clock: Clock
  events: EventBus<HubEvents>
  broker: BrokerPort
  /** the hub's 'machines' sublevel (valueEncoding json) */
  store: MachineDb
  log: Logger
  desiredStateFor: DesiredStateFn
  /** closing time of today's opening hours after `nowS` (scheduling.closingAfter), caps admin deadlines */
  closingAfter?: (nowS: number) => number | null
  /** running or upcoming sessions on a bay (scheduling, via src/hub.ts): stop / maintenance over them needs confirm */
  bookingsOn?: BookingsOnFn
  /** the audit log (src/audit): overrides and acknowledgements are recorded in their own write's batch */
  audit?: Pick<AuditLog, 'ops' | 'append'>
}

const actorOf = (by: CommandRequester): Actor => by.actor ?? { kind: 'node', name: by.node }

export function createMachines(deps: MachinesDeps): Machines {
  const { config, clock, events, broker, log } = deps
  const nowS = () => clock.now() / 1000
  const registry = createRegistry(config.machineIds)
  const store = createMachineStore(deps.store)
  const table = createMachineTable({ clock, events, log, store, audit: deps.audit })
  const fmt = clockFormatter(config.timezone)
  const policy = { timeoutMs: config.commandTimeoutMs, tries: config.commandRetries }
  const outcomes = createOutcomes({ table, events, log })
  const driver = createCommandDriver({ broker, clock, events, log, store, policy, outcomes })
  const reconciler = createReconciler({ table, driver, clock, log, desiredStateFor: deps.desiredStateFor })
  const handlers = createReportHandler({ table, driver, clock, log })
  const offs: Array<() => void> = []
  const logFail = (what: string, id: number) => (error: unknown) => log.error({ err: error, machineId: id }, `${what} failed`)
  // When each bay went offline (or the hub started without it): the sellable grace runs from here.
  const offlineSince = new Map<number, number>()

  const up = (client: ClientIdentity) => {
    const id = machineOf(client)
    if (id === undefined || !registry.has(id)) return
    // Every connection is a fresh clean session (possibly a rebooted machine taking over its
    // client id): what was in flight went to the old socket, so start over.
    driver.abandon(id)
    table
      .update(id, (e, fx) => {
        const next = clientUp(e.presence, client.clientId, nowS())
        e.presence = next.presence
        e.record.last_seen = next.presence.last_seen
        e.force = true
        e.fresh = true
        if (next.change !== 'online') return
        offlineSince.delete(id)
        e.record.offline_reason = null
        fx.clear('offline')
      })
      .catch(logFail('presence write', id))
    // DESIGN §4: on every (re)connect the machine gets the state the schedule requires now.
    reconciler.reconcile(id)
  }

  const down = (client: ClientIdentity, reason: DisconnectReason) => {
    const id = machineOf(client)
    if (id === undefined || !registry.has(id)) return
    table
      .update(id, (e, fx) => {
        const next = clientDown(e.presence, client.clientId, reason, nowS())
        e.presence = next.presence
        if (next.change !== 'offline') return
        offlineSince.set(id, nowS())
        e.record.last_seen = next.presence.last_seen
        e.record.offline_reason = next.presence.offline_reason
        // Abandoned, not queued: the reconciler sends the required state on reconnect.
        driver.abandon(id)
        // The hub stopping is not the machine's fault: no alert to greet staff after a restart.
        if (reason !== 'shutdown') fx.raise('offline', `machine ${id} is offline: ${describeReason(reason)}`)
      })
      .catch(logFail('presence write', id))
  }

  /**
   * No control leaves the hub without a deadline (issue 11): an admin "active" sent without
   * scheduled_until runs HUB_MAX_OVERRIDE_MINUTES, and never past today's closing time.
   */
  const withDeadline = (cmd: MachineOverride, by: CommandRequester, now: number): MachineOverride => {
    if (by.source !== 'admin' || cmd.release || cmd.status !== 'active' || (cmd.scheduled_until ?? null) !== null) return cmd
    const close = deps.closingAfter?.(now) ?? null
    const until = Math.min(now + config.maxOverrideMinutes * 60, close ?? Infinity)
    return { ...cmd, scheduled_until: until }
  }

  const list = () => registry.ids.map((id) => table.state(id)).filter((s) => s !== undefined)

  return {
    list,
    get: (id) => table.state(id),
    history: (id) => table.get(id)?.history.entries() ?? [],
    health(id, at) {
      const e = table.get(id)
      if (!e) return undefined
      return bayProblem({
        record: e.record,
        online: e.presence.online,
        offlineSince: e.presence.online ? null : (offlineSince.get(id) ?? at),
        // Only a bay reporting maintenance needs the schedule's word: asking it scans the bay's
        // sessions, and every booking asks the health of its bays (issue 17).
        scheduledMaintenance: e.record.reported_status === 'maintenance' && reconciler.scheduleFor(id, at)?.status === 'maintenance',
        graceS: config.offlineGraceSeconds,
        nowS: at,
      })
    },
    async override(input, by) {
      const command = withDeadline(input, by, nowS())
      const id = command.machine_id
      const known = registry.check(id)
      if (!known.ok) return known
      const guarded = guardOverride(command, by, deps.bookingsOn, nowS(), fmt)
      if (guarded) return guarded
      if (command.reason !== undefined) log.info({ machineId: id, by, status: command.status, reason: command.reason }, 'override confirmed over sessions')
      const e = table.get(id)
      if (!e) return err('MACHINE_UNKNOWN', `machine ${id} is not served by this hub`)
      const now = nowS()
      const holds = { admin: e.record.admin, direct: e.record.direct, schedule: reconciler.scheduleFor(id, now) }
      const decision = decideOverride(command, by, holds, now, fmt)
      if ('ok' in decision) return decision
      if (decision.kind !== 'same') {
        log.info({ machineId: id, by, decision: decision.kind, status: command.status }, 'override')
        const held = e.record[decision.slot]
        const before = isLive(held, now) ? held : null
        const after = decision.kind === 'set' ? decision.held : null
        const fact = { machineId: id, actor: actorOf(by), before, after, reason: command.reason }
        await table.update(
          id,
          (x) => {
            x.record[decision.slot] = after
          },
          () => [overrideDraft(fact, now)],
        )
        reconciler.arm()
      }
      reconciler.reconcile(id)
      return ok(table.state(id)!)
    },
    reconcile(ids) {
      for (const id of ids ?? registry.ids) reconciler.reconcile(id)
    },
    drive(ids) {
      const sent: Array<Promise<void>> = []
      for (const id of ids) {
        const p = reconciler.reconcile(id, false)
        if (p) sent.push(p)
      }
      return Promise.all(sent).then(() => undefined)
    },
    alerts: () => table.alerts(),
    dismissAlert(alertId) {
      const r = table.dismiss(alertId)
      if (r === 'open') return err('ALERT_OPEN', `alert ${alertId} is still open; it can be dismissed once its condition clears (acknowledge it meanwhile)`)
      if (r === null) return err('ALERT_UNKNOWN', `alert ${alertId} does not exist`)
      log.info({ alertId }, 'alert dismissed')
      return ok(r)
    },
    async noteAlert(machineId, kind, message) {
      if (!registry.has(machineId)) return
      await table.update(machineId, (_e, fx) => (message === null ? fx.clear(kind) : fx.note(kind, message)))
    },
    async acknowledgeAlert(alertId, options = {}) {
      const alert = await table.acknowledge(alertId, (a) => [acknowledgeDraft(a, options.actor ?? SYSTEM, nowS(), options.reason)])
      return alert ? ok(alert) : err('ALERT_UNKNOWN', `alert ${alertId} does not exist`)
    },
    stats: () => driver.stats(list().filter((m) => m.online).length),
    async start() {
      const loaded = await store.load()
      table.load(registry.ids, loaded.records)
      for (const id of registry.ids) offlineSince.set(id, nowS())
      await driver.restore(loaded.exchangeReservedUntil)
      offs.push(broker.onClientUp(up), broker.onClientDown(down))
      offs.push(createDispenserAdapter({ broker, clock, events, log, registry, handlers }).stop)
      // Clients already connected (the broker may start listening first) count as up.
      for (const client of broker.connectedClients()) up(client)
      for (const id of registry.ids) reconciler.reconcile(id)
      reconciler.arm()
      log.info({ machines: registry.ids.length, restored: loaded.records.length }, 'machines started')
    },
    async stop() {
      for (const off of offs.splice(0)) off()
      reconciler.stop()
      driver.stop()
      await store.flush()
    },
  }
}
