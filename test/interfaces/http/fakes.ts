/**
 * Small in-memory stand-ins for the scheduling and machines modules, used until (and besides)
 * the real modules: they follow the public contracts of src/scheduling/types.ts and
 * src/machines/types.ts closely enough to drive every HTTP status path.
 */
import type { Config } from '../../../src/config/index.js'
import type { Clock } from '../../../src/lib/clock.js'
import type { EventBus } from '../../../src/lib/event-bus.js'
import { err, ok } from '../../../src/lib/result.js'
import type { Machines, MachinesStats } from '../../../src/machines/types.js'
import type { HubEvents } from '../../../src/protocol/events.js'
import type { Alert, MachineState, Session, SessionRecord } from '../../../src/protocol/messages.js'
import type { Scheduling, SubmitOptions } from '../../../src/scheduling/types.js'

export function fakeScheduling(config: Config, clock: Clock, events: EventBus<HubEvents>): Scheduling {
  const sessions = new Map<number, SessionRecord>()
  let nextId = 1000
  const now = () => clock.now() / 1000
  const live = (s: SessionRecord) => s.status !== 'cancelled' && s.status !== 'completed'
  const conflictFor = (ids: number[], start: number, end: number, self?: number) =>
    [...sessions.values()].find((s) => live(s) && s.session_id !== self && s.machine_id.some((m) => ids.includes(m)) && s.start_time < end && start < s.end_time)

  const cancel = async (id: number, options: SubmitOptions) => {
    const current = sessions.get(id)
    if (!current) return err('SESSION_NOT_FOUND', `session ${id} does not exist`)
    if (!options.isAdmin && current.origin_node !== options.origin) return err('SESSION_FORBIDDEN', `session ${id} belongs to ${current.origin_node}`)
    if (!live(current)) return err('SESSION_ENDED', `session ${id} is ${current.status}`)
    const next = { ...current, status: 'cancelled' as const, updated_at: now() }
    sessions.set(id, next)
    events.emit('session.changed', { change: 'cancelled', session: next, previous: current })
    return ok({ session: next, replay: false })
  }

  const submit = async (input: Session, options: SubmitOptions) => {
    if (input.status === 'cancelled') {
      if (input.session_id === undefined) return err('SESSION_INVALID', 'session_id: is required to cancel', 'session_id')
      return cancel(input.session_id, options)
    }
    const ids = Array.isArray(input.machine_id) ? input.machine_id : [input.machine_id]
    const unknown = ids.find((id) => !config.machineIds.includes(id))
    if (unknown !== undefined) return err('MACHINE_UNKNOWN', `bay ${unknown} is not served by this hub`)
    const sorted = [...ids].sort((a, b) => a - b)
    if (sorted.some((id, i) => i > 0 && id !== (sorted[i - 1] ?? 0) + 1)) return err('BAYS_NOT_ADJACENT', `bays ${sorted.join(',')} are not adjacent`)
    const current = input.session_id !== undefined ? sessions.get(input.session_id) : undefined
    if (current && !options.isAdmin && current.origin_node !== options.origin) {
      return err('SESSION_FORBIDDEN', `session ${current.session_id} belongs to ${current.origin_node}`)
    }
    if (current && !live(current)) return err('SESSION_ENDED', `session ${current.session_id} is ${current.status}`)
    const duration = input.duration ?? current?.duration
    if (duration === undefined) return err('SESSION_INVALID', 'duration: is required', 'duration')
    const start = Math.max(input.start_time ?? now(), current?.status === 'active' ? current.start_time : 0)
    const clash = conflictFor(ids, start, start + duration, current?.session_id)
    if (clash) return err('SESSION_CONFLICT', `bay ${clash.machine_id.find((m) => ids.includes(m))} is held by session ${clash.session_id}`)
    const record: SessionRecord = {
      session_id: current?.session_id ?? input.session_id ?? nextId++,
      machine_id: sorted,
      status: input.status === 'maintenance' ? 'maintenance' : start <= now() ? 'active' : 'reserved',
      start_time: start,
      end_time: start + duration,
      duration,
      origin_node: current?.origin_node ?? options.origin,
      created_at: current?.created_at ?? now(),
      updated_at: now(),
    }
    sessions.set(record.session_id, record)
    events.emit('session.changed', { change: current ? 'updated' : 'created', session: record, ...(current && { previous: current }) })
    return ok({ session: record, replay: false })
  }

  return {
    submit,
    cancel,
    get: (id) => sessions.get(id),
    findByExternalId: () => undefined,
    list: (filter = {}) =>
      [...sessions.values()].filter(
        (s) => (filter.from === undefined || s.end_time > filter.from) && (filter.to === undefined || s.start_time < filter.to),
      ),
    scheduleFor: (date) => {
      if (date === '1999-01-01') return err('SESSION_INVALID', 'date: too far in the past', 'date')
      return ok({ date, slot_minutes: config.slotMinutes, machines: [...config.machineIds], schedule: [['00:00', ...config.machineIds.map((id) => ({ machine_id: id, status: 'available' as const }))]] })
    },
    availability: ({ bays, minutes, near = now() }) => {
      if (bays > config.machineIds.length) return err('SESSION_INVALID', `bays: only ${config.machineIds.length} bays exist`, 'bays')
      const options = []
      for (let first = 0; first + bays <= config.machineIds.length && options.length < 3; first++) {
        const ids = config.machineIds.slice(first, first + bays)
        if (!conflictFor(ids, near, near + minutes * 60)) options.push({ machine_id: ids, start_time: near, end_time: near + minutes * 60 })
      }
      return ok(options)
    },
    desiredStateFor: () => undefined,
    start: async () => {},
    stop: async () => {},
  }
}

export interface FakeMachines extends Machines {
  /** test hook: make the next override refuse with MACHINE_HELD */
  holdNext(message: string): void
  raise(alert: Alert): void
  setOnline(id: number, online: boolean): void
}

export function fakeMachines(config: Config, clock: Clock, events: EventBus<HubEvents>): FakeMachines {
  const state = new Map<number, MachineState>()
  for (const id of config.machineIds) {
    state.set(id, {
      machine_id: id, status: 'offline', online: false, reported_status: null, ball_level: null, session_id: null,
      scheduled_until: null, desired: null, last_seen: null, offline_reason: 'never connected', firmware: null,
      ip_address: null, rssi: null, uptime_s: null, error: null,
    })
  }
  const alerts = new Map<string, Alert>()
  let held: string | undefined
  const stats: MachinesStats = { online: 0, commandsSent: 7, commandsConfirmed: 6, commandsFailed: 1, recentLatenciesMs: [3, 4] }
  const change = (next: MachineState) => {
    state.set(next.machine_id, next)
    events.emit('machine.changed', { machine: next })
    return next
  }
  return {
    list: () => [...state.values()],
    get: (id) => state.get(id),
    history: (id) => (state.has(id) ? [{ received_at: clock.now() / 1000, report: { machine_id: id, status: 'idle', ball_level: 'full' } }] : []),
    override: async (command) => {
      const current = state.get(command.machine_id)
      if (!current) return err('MACHINE_UNKNOWN', `bay ${command.machine_id} is not served by this hub`)
      if (held) {
        const message = held
        held = undefined
        return err('MACHINE_HELD', message)
      }
      if (command.release) return ok(change({ ...current, desired: null }))
      const desired = { status: command.status, session_id: null, scheduled_until: command.scheduled_until ?? null, source: 'admin' as const, holder: 'admin override' }
      return ok(change({ ...current, desired, status: current.online ? command.status : 'offline' }))
    },
    reconcile: () => {},
    alerts: () => [...alerts.values()],
    acknowledgeAlert: async (id) => {
      const alert = alerts.get(id)
      if (!alert) return err('ALERT_UNKNOWN', `alert ${id} does not exist`)
      const next = { ...alert, acknowledged: true }
      alerts.set(id, next)
      return ok(next)
    },
    stats: () => ({ ...stats, online: [...state.values()].filter((m) => m.online).length }),
    start: async () => {},
    stop: async () => {},
    holdNext: (message) => (held = message),
    raise: (alert) => {
      alerts.set(alert.alert_id, alert)
      events.emit('alert.raised', { alert })
    },
    setOnline: (id, online) => {
      const current = state.get(id)
      if (current) change({ ...current, online, status: online ? 'idle' : 'offline', reported_status: online ? 'idle' : null, ball_level: online ? 'full' : current.ball_level })
    },
  }
}
