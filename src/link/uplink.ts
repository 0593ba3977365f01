/**
 * Event uplink: session, machine and alert events are appended to a durable outbox and POSTed in
 * order to HUB_UPLINK_URL as `{ "events": [UplinkEvent...] }`. Each event's id `<site>:<seq>` is
 * stable across retries and restarts, so the receiver can drop repeats.
 */
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import type { HubEvents } from '../protocol/events.js'
import type { MachineState, SessionRecord } from '../protocol/messages.js'
import type { UplinkEvent } from '../protocol/cloud.js'
import { createDeliverer, type Deliverer } from './deliverer.js'
import type { Outbox } from './outbox.js'
import { postJson } from './http.js'
import { withoutPersonalData } from '../protocol/details.js'

type Pending = Omit<UplinkEvent, 'id' | 'seq'>

/** Telemetry is dropped first when the outbox is this full; session and alert events never are. */
export const MAX_BACKLOG = 200_000
const OWNER = 'uplink'

/** Where the uplink remembers the newest session change it has put in the outbox. */
export interface UplinkState {
  get(key: string): Promise<unknown>
  put(key: string, value: unknown, options: { sync: boolean }): Promise<void>
}

const WATERMARK = 'uplink.session_watermark'

export interface UplinkDeps {
  url: string
  token: string | null
  siteId: string
  outbox: Outbox<Pending>
  events: EventBus<HubEvents>
  clock: Clock
  log: Logger
  /** every stored session, to re-send what a crash kept out of the outbox */
  sessions: () => SessionRecord[]
  state: UplinkState
  /** HUB_UPLINK_PERSONAL_DATA: send booking details too (default: they stay at the venue) */
  personalData?: boolean
  baseDelayMs?: number
}

export async function createUplink(deps: UplinkDeps): Promise<Deliverer & { dropped(): number }> {
  const { url, token, siteId, outbox, events, clock, log } = deps
  const lastMachine = new Map<number, string>()
  let dropped = 0
  const deliverer = createDeliverer({
    outbox,
    clock,
    ...(deps.baseDelayMs !== undefined ? { baseDelayMs: deps.baseDelayMs } : {}),
    send: async (batch) => {
      const body = { events: batch.map(({ seq, value }) => ({ id: `${siteId}:${seq}`, seq, ...value })) }
      await postJson(url, body, token)
    },
  })
  let watermark = Number((await deps.state.get(WATERMARK).catch(() => undefined)) ?? 0)
  const append = (type: UplinkEvent['type'], data: unknown, sessionTime?: number) => {
    // Stripped before the outbox: personal data never lands in the upstream queue either.
    const sent = deps.personalData === true ? data : withoutPersonalData(data)
    outbox
      .append([{ site_id: siteId, type, at: clock.now() / 1000, data: sent }])
      .then(async () => {
        deliverer.kick()
        if (sessionTime !== undefined && sessionTime > watermark) {
          watermark = sessionTime
          await deps.state.put(WATERMARK, watermark, { sync: true })
        }
      })
      .catch((error: unknown) => log.error({ err: error }, 'uplink outbox append failed'))
  }
  // A session change is durable before its event is emitted, so a kill -9 in between would
  // keep it out of the outbox: on start, re-send every session changed at or after the
  // watermark (changes written in one group commit share a time; repeats are harmless).
  const missed = deps.sessions().filter((s) => s.updated_at >= watermark).sort((a, b) => a.updated_at - b.updated_at)
  for (const session of missed) append('session.changed', { change: 'resync', session }, session.updated_at)
  if (missed.length > 0) log.info({ sessions: missed.length }, 'uplink: re-sent sessions changed since the last run')
  // Only what an operator cares about leaves the venue: status, presence and ball level changes.
  const machineChanged = (m: MachineState) => {
    const digest = `${m.status}|${m.online}|${m.ball_level}|${m.session_id}`
    if (lastMachine.get(m.machine_id) === digest) return
    lastMachine.set(m.machine_id, digest)
    if (outbox.size() >= MAX_BACKLOG) {
      dropped++
      return
    }
    append('machine.changed', m)
  }
  events.on('session.changed', OWNER, (e) => append('session.changed', e, e.session.updated_at))
  events.on('machine.changed', OWNER, ({ machine }) => machineChanged(machine))
  events.on('alert.raised', OWNER, ({ alert }) => append('alert.raised', alert))
  events.on('alert.cleared', OWNER, ({ alert }) => append('alert.cleared', alert))
  // issue 11: affected sessions and credits for lost minutes (the cloud can settle credits across venues)
  events.on('session.affected', OWNER, ({ affected }) => append('session.affected', affected))
  events.on('credit.changed', OWNER, ({ change, credit }) => append('credit.changed', { change, credit }))
  deliverer.kick() // what a previous run left behind
  return {
    ...deliverer,
    stop() {
      events.off(OWNER)
      deliverer.stop()
    },
    dropped: () => dropped,
  }
}
