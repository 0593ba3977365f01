/**
 * The hub's Prometheus metrics (/metrics), kept in a registry of the hub's own (not
 * prom-client's global one, so several hubs in one process never collide) with the standard
 * process, heap, GC and event-loop-lag collectors (issue 17).
 *
 * Modules describe what they expose as families read from their own state at each scrape
 * (`add`); only the two latency histograms are observed as things happen. prom-client is
 * loaded when it is first needed, not at start: its import costs ~50 ms of CPU (more on a Pi) and
 * ~12 MB of RSS, which a hub nobody scrapes never needs. Until then observations wait in a
 * compact list and are replayed into the histograms; when the list is full the client is loaded,
 * so no observation is lost.
 */
import type { EventBus } from '../lib/event-bus.js'
import type { HubEvents } from '../protocol/events.js'
import type { Histogram, Registry } from 'prom-client'

/** ms; a LAN round trip or a durable LevelDB write takes a few ms, the command retry timeout is 2 s (DESIGN §5) */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000] as const

/** Observations kept before the client is loaded (a 1,000-bay changeover makes 2,000); 12 bytes each. */
export const PENDING_MAX = 50_000

/**
 * dispenser_event_loop_delay_ms{quantile} (issue 10: a stall must never expire a 10 s keep-alive),
 * read from prom-client's event-loop collector, the process's one monitor (10 ms resolution):
 * that collector resets its histogram at every scrape, so both it and this family cover the time
 * since the previous scrape. Its `nodejs_eventloop_lag_seconds` collect sets the p50/p99/max
 * gauges; they come before this family in the hub's registry, so it reads this scrape's values.
 */
const LOOP_DELAY = {
  name: 'dispenser_event_loop_delay_ms',
  help: 'Event-loop delay since the previous scrape (p50, p99, max)',
  quantiles: [['0.5', 'nodejs_eventloop_lag_p50_seconds'], ['0.99', 'nodejs_eventloop_lag_p99_seconds'], ['1', 'nodejs_eventloop_lag_max_seconds']],
} as const

export type Labels = Readonly<Record<string, string>>

/** One metric family whose values are read from state at each scrape. */
export interface MetricFamily {
  name: string
  help: string
  type: 'gauge' | 'counter'
  labelNames?: readonly string[]
  /** the value, or one value per label set (label values from a fixed set: cardinality stays bounded) */
  read(): number | Iterable<readonly [Labels, number]>
}

/** Which door a booking came through, and how it ended. */
export type BookingDoor = 'http' | 'mqtt'
export type BookingOutcome = 'confirmed' | 'refused' | 'error'

export interface BookingMeter {
  /** a booking request (create / update / cancel) answered `ms` after it was received */
  booking(door: BookingDoor, outcome: BookingOutcome, ms: number): void
}

export interface HubMetrics extends BookingMeter {
  /** families read at each scrape; a name given twice is a programming error (throws at load) */
  add(...families: MetricFamily[]): void
  /** the Prometheus text of every family, loading the client first if needed */
  render(): Promise<{ contentType: string; text: string }>
  /** loads the client now (normally done by the first scrape or the timer) */
  load(): Promise<void>
  stop(): void
}

type Client = typeof import('prom-client')
type HistogramName = 'command' | 'booking'

const HISTOGRAMS: Record<HistogramName, { name: string; help: string; labelNames: string[] }> = {
  command: {
    name: 'dispenser_command_confirmation_ms',
    help: "Time from a control's publish to the dispenser's matching Confirmation, ms, by the status commanded",
    labelNames: ['status'],
  },
  booking: {
    name: 'dispenser_booking_confirmation_ms',
    help: 'Time from a booking request received to its answer (after the durable write), ms, by door and outcome',
    labelNames: ['door', 'outcome'],
  },
}

let client: Promise<Client> | undefined
let processMetrics: Registry | undefined

/**
 * The process collectors exist once per process: prom-client cannot stop their event-loop
 * monitor and GC observer, and every hub in the process shares the same process anyway.
 */
function loadClient(): Promise<Client> {
  client ??= import('prom-client').then((loaded) => {
    // prom-client is CommonJS: required by the bundle (esbuild's interop) its exports arrive as `default` too.
    const prom = ((loaded as { default?: Client }).default ?? loaded) as Client
    processMetrics = new prom.Registry()
    prom.collectDefaultMetrics({ register: processMetrics })
    return prom
  })
  client.catch(() => {
    client = undefined
  })
  return client
}

function addFamily(prom: Client, registry: Registry, family: MetricFamily, onError: (error: unknown, name: string) => void): void {
  const { name, help, labelNames = [] } = family
  const fill = (metric: { reset(): void }, set: (labels: Labels, value: number) => void) => {
    let value: ReturnType<MetricFamily['read']>
    try {
      value = family.read()
    } catch (error) {
      // a module that cannot say its value shows none (NaN when unlabelled); the scrape still answers
      onError(error, name)
      metric.reset()
      if (labelNames.length === 0) set({}, NaN)
      return
    }
    metric.reset()
    if (typeof value === 'number') set({}, value)
    else for (const [labels, n] of value) set(labels, n)
  }
  if (family.type === 'gauge') {
    new prom.Gauge({ name, help, labelNames, registers: [registry], collect() {
      fill(this, (labels, value) => this.set(labels, value))
    } })
  } else {
    new prom.Counter({ name, help, labelNames, registers: [registry], collect() {
      fill(this, (labels, value) => this.inc(labels, value))
    } })
  }
}

export interface HubMetricsOptions {
  /** command confirmations (`command.confirmed`) are observed from the hub's events */
  events?: EventBus<HubEvents>
  /** a family whose read() threw */
  onError?: (error: unknown, family: string) => void
}

interface PendingObservations {
  /** false when full (nothing kept: the caller loads the client, which takes this one and the rest) */
  add(which: HistogramName, labels: Labels, ms: number): boolean
  replay(observe: (which: HistogramName, labels: Labels, ms: number) => void): void
}

/**
 * Observations in two typed arrays (value, label set), not an object each: label sets come from
 * fixed sets (statuses; door x outcome), so there are a handful, each kept once. The OS hands the
 * arrays out as untouched zero pages, so only the part in use counts in RSS.
 */
function createPending(): PendingObservations {
  const values = new Float64Array(PENDING_MAX)
  const sets = new Uint32Array(PENDING_MAX)
  const labelSets: Array<[HistogramName, Labels]> = []
  const setIndex = new Map<string, number>()
  let size = 0
  return {
    add(which, labels, ms) {
      if (size >= PENDING_MAX) return false
      const key = `${which}\u0000${Object.entries(labels).flat().join('\u0000')}`
      let set = setIndex.get(key)
      if (set === undefined) {
        set = labelSets.push([which, labels]) - 1
        setIndex.set(key, set)
      }
      values[size] = ms
      sets[size++] = set
      return true
    },
    replay(observe) {
      for (let i = 0; i < size; i++) {
        const [which, labels] = labelSets[sets[i]!]!
        observe(which, labels, values[i]!)
      }
    },
  }
}

export function createHubMetrics(options: HubMetricsOptions = {}): HubMetrics {
  const onError = options.onError ?? (() => undefined)
  const families: MetricFamily[] = []
  let pending: PendingObservations | null = createPending()
  let whileLoading: Array<[HistogramName, Labels, number]> = []
  let loaded: { prom: Client; registry: Registry; histograms: Record<HistogramName, Histogram> } | undefined
  let loading: Promise<void> | undefined
  /** a load failed (never seen: a broken install): only the next scrape tries again, not every observation */
  let loadFailed = false

  const observe = (which: HistogramName, labels: Labels, ms: number) => {
    if (loaded) loaded.histograms[which].observe(labels, ms)
    else if (pending && !pending.add(which, labels, ms)) {
      // full: load the client now; what comes while it loads waits here (a few ms of observations)
      if (whileLoading.length < PENDING_MAX) whileLoading.push([which, labels, ms])
      if (!loadFailed) load().catch((error: unknown) => onError(error, 'prom-client'))
    }
  }

  const load = () => {
    loading ??= loadClient().then((prom) => {
      // the hub's registry: the process collectors (shared objects) and then the hub's families
      const registry = prom.Registry.merge([processMetrics ?? new prom.Registry()])
      const histogram = (which: HistogramName) => new prom.Histogram({ ...HISTOGRAMS[which], buckets: [...LATENCY_BUCKETS_MS], registers: [registry] })
      const histograms = { command: histogram('command'), booking: histogram('booking') }
      const lag = async (name: string) => (await processMetrics?.getSingleMetric(name)?.get())?.values[0]?.value ?? NaN
      new prom.Gauge({ name: LOOP_DELAY.name, help: LOOP_DELAY.help, labelNames: ['quantile'], registers: [registry], async collect() {
        for (const [quantile, name] of LOOP_DELAY.quantiles) this.set({ quantile }, Math.round((await lag(name)) * 1e5) / 100)
      } })
      for (const family of families) addFamily(prom, registry, family, onError)
      loaded = { prom, registry, histograms }
      pending?.replay((which, labels, ms) => histograms[which].observe(labels, ms))
      for (const [which, labels, ms] of whileLoading) histograms[which].observe(labels, ms)
      pending = null
      whileLoading = []
    })
    // a failed load is retried by the next scrape, never thrown at the event loop
    loading.catch(() => {
      loading = undefined
      loadFailed = true
    })
    return loading
  }
  const OWNER = 'metrics'
  options.events?.on('command.confirmed', OWNER, ({ command, latencyMs }) => observe('command', { status: command.status }, latencyMs))

  return {
    booking: (door, outcome, ms) => observe('booking', { door, outcome }, ms),
    add(...more) {
      families.push(...more)
      if (loaded) for (const family of more) addFamily(loaded.prom, loaded.registry, family, onError)
    },
    async render() {
      loadFailed = false
      await load()
      const { registry } = loaded!
      return { contentType: registry.contentType, text: await registry.metrics() }
    },
    load,
    stop() {
      options.events?.off(OWNER)
    },
  }
}

/**
 * Times a booking call and records it on `meter` (when given) by its outcome: a value
 * `{ ok: true }` is confirmed, `{ ok: false }` refused, a throw (an I/O failure) an error.
 * `receivedAtMs` is performance.now() when the request arrived.
 */
export async function timeBooking<T extends { ok: boolean }>(meter: BookingMeter | undefined, door: BookingDoor, receivedAtMs: number, work: Promise<T>): Promise<T> {
  try {
    const result = await work
    meter?.booking(door, result.ok ? 'confirmed' : 'refused', performance.now() - receivedAtMs)
    return result
  } catch (error) {
    meter?.booking(door, 'error', performance.now() - receivedAtMs)
    throw error
  }
}

/** The Prometheus text of `families` alone (module tests). */
export async function renderFamilies(families: readonly MetricFamily[]): Promise<string> {
  const metrics = createHubMetrics()
  metrics.add(...families)
  try {
    return (await metrics.render()).text
  } finally {
    metrics.stop()
  }
}
