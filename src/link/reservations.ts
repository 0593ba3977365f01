/**
 * Reservation sync: reservations from the cloud (pulled on an interval, or pushed to the
 * webhook) become sessions through the same scheduling call as every other booking. The external
 * id makes a repeat idempotent and lets a change or cancellation upstream update the session.
 * Each outcome (confirmed / refused with the reason / cancelled) goes back upstream through a
 * durable outbox, so it survives offline periods.
 */
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import { decoderFor } from '../protocol/codec.js'
import { CloudReservation, CloudReservationPage, type ReservationOutcome } from '../protocol/cloud.js'
import { NodeNames } from '../protocol/topics.js'
import type { Scheduling } from '../scheduling/types.js'
import { createDeliverer, type Deliverer } from './deliverer.js'
import { getJson, postJson } from './http.js'
import type { Outbox } from './outbox.js'

const decodeReservation = decoderFor(CloudReservation)
const decodePage = decoderFor(CloudReservationPage)
// Sessions from the cloud belong to the reservation interface, like the booking site's own.
// issue 12: reservations expect a check-in (the no-show rule)
const ORIGIN = { origin: NodeNames.reservation, isAdmin: false, channel: 'reservation' as const }

export interface ReservationSyncDeps {
  cloudUrl: string | null
  token: string | null
  pullSeconds: number
  siteId: string
  scheduling: Scheduling
  outcomes: Outbox<ReservationOutcome>
  /** where the pull cursor is kept */
  state: { get(key: string): Promise<unknown>; put(key: string, value: unknown, options: { sync: boolean }): Promise<void> }
  clock: Clock
  log: Logger
  baseDelayMs?: number
}

export interface PullStatus {
  lastSuccess: number | null
  lastError: string | null
  applied: number
  refused: number
  /** older versions (updated_at) ignored */
  stale: number
}

export interface ReservationSync {
  /** apply one reservation (already JSON-parsed); bad input is an outcome too */
  apply(raw: unknown): Promise<ReservationOutcome | { error: string }>
  pullNow(): Promise<void>
  status(): { pull: PullStatus; reports: ReturnType<Deliverer['status']> }
  stop(): void
}

export function createReservationSync(deps: ReservationSyncDeps): ReservationSync {
  const { cloudUrl, token, scheduling, outcomes, clock, log, siteId } = deps
  const pull: PullStatus = { lastSuccess: null, lastError: null, applied: 0, refused: 0, stale: 0 }
  let stopped = false
  let cancelTimer: (() => void) | undefined
  const reports = createDeliverer({
    outbox: outcomes,
    clock,
    batchSize: 1,
    ...(deps.baseDelayMs !== undefined ? { baseDelayMs: deps.baseDelayMs } : {}),
    ready: () => cloudUrl !== null,
    send: async ([entry]) => {
      const o = entry!.value
      await postJson(`${cloudUrl}/reservations/${encodeURIComponent(o.external_id)}/status`, o, token)
    },
  })

  const report = async (outcome: ReservationOutcome) => {
    if (!cloudUrl) return outcome // webhook only: the outcome is the webhook's answer
    await outcomes.append([outcome])
    reports.kick()
    return outcome
  }

  /**
   * updated_at ordering (issue 10 defect 8): the version applied last per external id is kept
   * durably; an older one (a replayed webhook, a late pull page) changes nothing and is reported
   * `stale`. The same version again is applied as usual (an idempotent repeat).
   */
  const versionKey = (externalId: string) => `reservations.version.${externalId}`
  const appliedVersion = async (externalId: string): Promise<number | undefined> => {
    const v: unknown = await deps.state.get(versionKey(externalId)).catch(() => undefined)
    return typeof v === 'number' ? v : undefined
  }

  // One reservation at a time: two versions of one reservation arriving together (webhook and
  // pull) cannot overtake each other between the version check and the booking.
  let queue: Promise<unknown> = Promise.resolve()
  const apply = (raw: unknown): Promise<ReservationOutcome | { error: string }> => {
    const next = queue.then(() => applyOne(raw))
    queue = next.catch(() => undefined)
    return next
  }

  const applyOne = async (raw: unknown): Promise<ReservationOutcome | { error: string }> => {
    const decoded = decodeReservation.check(raw)
    if (!decoded.ok) return { error: decoded.message }
    const r = decoded.value
    const start = typeof r.start === 'number' ? r.start : Date.parse(r.start) / 1000
    if (!Number.isFinite(start)) return { error: `start: "${String(r.start)}" is not epoch seconds or ISO 8601` }
    const version = r.updated_at === undefined ? undefined : typeof r.updated_at === 'number' ? r.updated_at : Date.parse(r.updated_at) / 1000
    if (version !== undefined && !Number.isFinite(version)) return { error: `updated_at: "${String(r.updated_at)}" is not epoch seconds or ISO 8601` }
    const applied = version === undefined ? undefined : await appliedVersion(r.external_id)
    if (version !== undefined && applied !== undefined && version < applied) {
      pull.stale++
      const reason = `updated_at: version ${new Date(version * 1000).toISOString()} is older than the applied ${new Date(applied * 1000).toISOString()}; ignored`
      log.warn({ externalId: r.external_id, version, applied }, 'older reservation version ignored')
      const existing = scheduling.findByExternalId(r.external_id)
      return report({ external_id: r.external_id, status: 'stale', reason, site_id: siteId, ...(existing && { session_id: existing.session_id }) })
    }
    const outcome = await book(r, start)
    if (version !== undefined && (applied === undefined || version > applied)) await deps.state.put(versionKey(r.external_id), version, { sync: true })
    return outcome
  }

  const book = async (r: CloudReservation, start: number): Promise<ReservationOutcome> => {
    const existing = scheduling.findByExternalId(r.external_id)
    if (r.status === 'cancelled') {
      if (!existing) return report({ external_id: r.external_id, status: 'cancelled', site_id: siteId })
      const result = await scheduling.cancel(existing.session_id, ORIGIN)
      return report(
        result.ok || result.code === 'SESSION_ENDED'
          ? { external_id: r.external_id, status: 'cancelled', session_id: existing.session_id, site_id: siteId }
          : { external_id: r.external_id, status: 'refused', session_id: existing.session_id, reason: result.message, site_id: siteId },
      )
    }
    const result = await scheduling.submit(
      {
        machine_id: r.bays.length === 1 ? r.bays[0]! : r.bays,
        status: 'reserved',
        start_time: start,
        duration: r.duration_minutes * 60,
        origin_node: NodeNames.reservation,
        ...(existing ? { session_id: existing.session_id } : {}),
      },
      { ...ORIGIN, externalId: r.external_id },
    )
    if (result.ok) pull.applied++
    else pull.refused++
    return report(
      result.ok
        ? { external_id: r.external_id, status: 'confirmed', session_id: result.value.session.session_id, site_id: siteId }
        : { external_id: r.external_id, status: 'refused', reason: result.message, site_id: siteId },
    )
  }

  // Pulls never overlap: two at once would apply the same page twice before the cursor moves.
  let pulling: Promise<void> = Promise.resolve()
  const pullNow = () => (pulling = pulling.then(pullOnce))
  const pullOnce = async () => {
    if (!cloudUrl) return
    try {
      let cursor = (await deps.state.get('reservations.cursor').catch(() => undefined)) as string | undefined
      for (let page = 0; page < 100; page++) {
        const url = `${cloudUrl}/reservations${cursor ? `?since=${encodeURIComponent(cursor)}` : ''}`
        const decoded = decodePage.check(await getJson(url, token))
        if (!decoded.ok) throw new Error(`reservation page: ${decoded.message}`)
        for (const raw of decoded.value.reservations) {
          const outcome = await apply(raw)
          if ('error' in outcome) log.warn({ reason: outcome.error }, 'reservation from the cloud ignored')
        }
        const next = decoded.value.cursor
        if (!next || next === cursor || decoded.value.reservations.length === 0) break
        cursor = next
        await deps.state.put('reservations.cursor', cursor, { sync: true })
      }
      pull.lastSuccess = clock.now() / 1000
      pull.lastError = null
    } catch (error) {
      pull.lastError = (error as Error).message
      log.warn({ err: error }, 'reservation pull failed; the range keeps working, retrying later')
    }
  }

  const loop = () => {
    if (stopped) return
    void pullNow().finally(() => {
      if (!stopped) cancelTimer = clock.setTimeout(loop, deps.pullSeconds * 1000)
    })
  }
  if (cloudUrl) loop()
  reports.kick()

  return {
    apply,
    pullNow,
    status: () => ({ pull: { ...pull }, reports: reports.status() }),
    stop() {
      stopped = true
      cancelTimer?.()
      reports.stop()
    },
  }
}
