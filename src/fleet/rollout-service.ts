/**
 * Rollouts (issue 16): "update bays 1-80" in batches, idle bays only, over BrokerPort. Sends
 * FirmwareUpdate on external/machine/{id}; a bay is `updated` when it reports the new firmware
 * (it reboots into it and marks itself valid), `failed` when it says so (refused: hash or
 * signature; rolled back: it did not come back healthy) or stays silent past
 * HUB_FIRMWARE_UPDATE_TIMEOUT_S. A failure rate over the rollout's threshold pauses it. State is
 * durable (one record per rollout, synced with its audit entries) and resumes after a restart.
 */
import type { Logger } from 'pino'
import type { BrokerPort } from '../broker/index.js'
import type { Clock } from '../lib/clock.js'
import { parseIdList } from '../config/ranges.js'
import { err, ok, type Result } from '../lib/result.js'
import { actorLabel, SYSTEM, type Actor } from '../protocol/actor.js'
import type { AuditDraft } from '../protocol/audit.js'
import type { BayUpdate, FirmwareUpdate, Rollout, RolloutBody } from '../protocol/fleet.js'
import { decodeInbound } from '../protocol/inbound.js'
import { machineTopic, Topics } from '../protocol/topics.js'
import type { FleetErrorCode } from './enrollment.js'
import { planRollout, type BusyReason } from './rollout.js'
import type { FleetStore } from './store.js'

const TICK_MS = 1000
const DEFAULT_BATCH = 10
const DEFAULT_MAX_FAILURE_RATE = 0.2

export interface RolloutDeps {
  broker: Pick<BrokerPort, 'publish' | 'onMessage'>
  store: FleetStore
  clock: Clock
  log: Logger
  machineIds: readonly number[]
  timeoutS: number
  /** why bay N can't update now (in a session, offline), else undefined */
  busy(id: number, nowS: number): BusyReason
  /** the firmware bay N last reported */
  firmwareOf(id: number): string | null
  /** base URL of the hub's HTTP server as dispensers reach it */
  baseUrl(): string
}

export interface Rollouts {
  start(body: RolloutBody, by: Actor): Promise<Result<Rollout, FleetErrorCode>>
  act(id: number, action: 'pause' | 'resume' | 'cancel', by: Actor): Promise<Result<Rollout, FleetErrorCode>>
  list(): Rollout[]
  current(): Rollout | undefined
  begin(): void
  stop(): void
}

export function createRollouts(deps: RolloutDeps): Rollouts {
  const { broker, store, clock, log } = deps
  const served = new Set(deps.machineIds)
  const nowS = () => clock.now() / 1000
  let cancelTick: (() => void) | undefined
  let off: (() => void) | undefined
  let busyWriting: Promise<void> = Promise.resolve()

  const active = () => store.rollouts().find((r) => r.state === 'running' || r.state === 'paused')

  /** One writer: every change of a rollout is applied in order, then written with its audit entries. */
  const change = (mutate: (r: Rollout) => AuditDraft[] | undefined, id?: number): Promise<Rollout | undefined> => {
    const run = busyWriting.then(async () => {
      const r = id === undefined ? active() : store.rollouts().find((x) => x.id === id)
      if (!r) return undefined
      const next: Rollout = structuredClone(r)
      const drafts = mutate(next)
      if (drafts === undefined) return r
      await store.write({ rollouts: [next], audit: drafts })
      return next
    })
    busyWriting = run.then(() => undefined, () => undefined)
    return run
  }

  const bayDraft = (r: Rollout, b: BayUpdate, before: string): AuditDraft => ({
    at: nowS(),
    actor: actorLabel(SYSTEM),
    kind: 'rollout.bay',
    machine_id: [b.machine_id],
    before: { state: before },
    after: { state: b.state, version: r.version, ...(b.message && { message: b.message }) },
  })

  const send = async (r: Rollout, id: number) => {
    const image = store.image(r.version)
    if (!image) return
    const command: FirmwareUpdate = {
      machine_id: id,
      request_type: 'update',
      version: image.version,
      url: `${deps.baseUrl()}/fw/${image.token}`,
      sha256: image.sha256,
      size: image.size,
      timestamp: nowS(),
    }
    await broker.publish(machineTopic(id), command, { qos: 1 })
  }

  const finish = (machineId: number, state: 'updated' | 'failed', message: string | null) =>
    change((r) => {
      const b = r.bays.find((x) => x.machine_id === machineId)
      if (!b || b.state !== 'updating') return undefined
      const before = b.state
      Object.assign(b, { state, message, finished_at: nowS() })
      if (r.bays.every((x) => x.state === 'updated' || x.state === 'failed' || x.state === 'skipped')) r.state = 'completed'
      return [bayDraft(r, b, before)]
    })

  const tick = async () => {
    const r = active()
    if (!r || r.state !== 'running') return
    const plan = planRollout(r, (id) => deps.busy(id, nowS()), nowS(), deps.timeoutS)
    if (plan.start.length === 0 && plan.wait.length === 0 && plan.timedOut.length === 0 && !plan.pause && !plan.completed) return
    const started: number[] = []
    await change((x) => {
      const drafts: AuditDraft[] = []
      for (const id of plan.timedOut) {
        const b = x.bays.find((y) => y.machine_id === id)!
        Object.assign(b, { state: 'failed', message: `update failed: not back on ${x.version} within ${deps.timeoutS} s`, finished_at: nowS() })
        drafts.push(bayDraft(x, b, 'updating'))
      }
      for (const w of plan.wait) Object.assign(x.bays.find((y) => y.machine_id === w.machine_id)!, { state: 'waiting', message: w.message })
      for (const id of plan.start) {
        const b = x.bays.find((y) => y.machine_id === id)!
        Object.assign(b, { state: 'updating', message: null, started_at: nowS(), from_version: deps.firmwareOf(id) })
        started.push(id)
      }
      if (plan.pause) {
        x.state = 'paused'
        x.paused_reason = plan.pause
        drafts.push({ at: nowS(), actor: 'system', kind: 'rollout.paused', before: null, after: { id: x.id, version: x.version }, reason: plan.pause })
      } else if (plan.completed) x.state = 'completed'
      return drafts
    }, r.id)
    for (const id of started) await send(r, id).catch((error: unknown) => log.warn({ err: error, id }, 'update command not sent'))
  }

  const schedule = () => {
    cancelTick = clock.setTimeout(() => {
      tick()
        .catch((error: unknown) => log.error({ err: error }, 'rollout step failed'))
        .finally(() => {
          if (cancelTick) schedule()
        })
    }, TICK_MS)
  }

  const onHandler = (topic: string, payload: Buffer, client: Parameters<typeof decodeInbound>[2]) => {
    const r = active()
    if (!r) return
    const decoded = decodeInbound(topic, payload, client)
    if (!decoded.ok || decoded.sender.kind !== 'machine') return
    const id = decoded.sender.machineId
    const bay = r.bays.find((b) => b.machine_id === id)
    if (!bay || bay.state !== 'updating') return
    if (decoded.kind === 'report' && decoded.value.firmware === r.version) {
      void finish(id, 'updated', null)
    } else if (decoded.kind === 'ota' && decoded.value.version === r.version && decoded.value.ota !== 'downloading') {
      const what = decoded.value.ota === 'rolled_back' ? 'update failed: rolled back' : `update ${decoded.value.ota}`
      void finish(id, 'failed', `${what}${decoded.value.message ? `: ${decoded.value.message}` : ''}`)
    }
  }

  return {
    async start(body, by) {
      if (active()) return err('ROLLOUT_CONFLICT', `rollout ${active()!.id} is not finished: pause or cancel it first`)
      const image = store.image(body.version)
      if (!image) return err('FIRMWARE_UNKNOWN', `version: no image ${body.version} was uploaded`, 'version')
      const parsed = parseIdList(body.machines)
      if (!parsed.ok) return err('FLEET_INVALID', `machines: ${parsed.message}`, 'machines')
      const ids = parsed.value
      const unknown = ids.filter((id) => !served.has(id))
      if (unknown.length > 0) return err('MACHINE_UNKNOWN', `machines: bay ${unknown[0]} is not served by this hub (HUB_MACHINES)`, 'machines')
      const id = (store.rollouts().at(-1)?.id ?? 0) + 1
      const rollout: Rollout = {
        id,
        version: body.version,
        state: 'running',
        batch_size: body.batch_size ?? DEFAULT_BATCH,
        max_failure_rate: body.max_failure_rate ?? DEFAULT_MAX_FAILURE_RATE,
        paused_reason: null,
        started_at: nowS(),
        started_by: actorLabel(by),
        bays: ids.map((m) => {
          const from = deps.firmwareOf(m)
          const same = from === body.version
          return { machine_id: m, state: same ? 'skipped' : 'queued', from_version: from, message: same ? `already on ${body.version}` : null, started_at: null, finished_at: null }
        }),
      }
      await store.write({
        rollouts: [rollout],
        audit: [{ at: nowS(), actor: actorLabel(by), kind: 'rollout.started', machine_id: ids, before: null, after: { id, version: body.version, batch_size: rollout.batch_size, max_failure_rate: rollout.max_failure_rate } }],
      })
      void tick().catch((error: unknown) => log.error({ err: error }, 'rollout step failed'))
      return ok(rollout)
    },
    async act(id, action, by) {
      const r = store.rollouts().find((x) => x.id === id)
      if (!r) return err('ROLLOUT_UNKNOWN', `rollout ${id} does not exist`)
      const allowed = action === 'pause' ? r.state === 'running' : action === 'resume' ? r.state === 'paused' : r.state === 'running' || r.state === 'paused'
      if (!allowed) return err('ROLLOUT_CONFLICT', `rollout ${id} is ${r.state}: it can't be ${action}d`)
      const next = await change((x) => {
        x.state = action === 'pause' ? 'paused' : action === 'resume' ? 'running' : 'cancelled'
        x.paused_reason = action === 'pause' ? `paused by ${actorLabel(by)}` : null
        const kind = action === 'pause' ? 'rollout.paused' : action === 'resume' ? 'rollout.resumed' : 'rollout.cancelled'
        return [{ at: nowS(), actor: actorLabel(by), kind, before: { state: r.state }, after: { state: x.state, id: x.id } }]
      }, id)
      return ok(next!)
    },
    list: () => store.rollouts(),
    current: () => active() ?? store.rollouts().at(-1),
    begin() {
      off = broker.onMessage(Topics.machineHandler, (m) => {
        try {
          onHandler(m.topic, m.payload, m.client)
        } catch (error) {
          log.error({ err: error }, 'rollout: handler message failed')
        }
      })
      schedule()
    },
    stop() {
      const cancel = cancelTick
      cancelTick = undefined
      cancel?.()
      off?.()
    },
  }
}
