/**
 * createReports(deps): the CSV exports and utilization reports of issue 13, over the scheduling
 * module's history (live and archived sessions, streamed in start order) and the audit log.
 * Everything streams: no export holds its rows in memory; reports keep one figure per day and bay.
 */
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import type { Result } from '../lib/result.js'
import type { AuditFilter, AuditPage } from '../audit/log.js'
import type { AuditEntry } from '../protocol/audit.js'
import type { SessionRecord } from '../protocol/messages.js'
import type { DailyTotals, Heatmap } from '../protocol/reports.js'
import { dateAt, dayBounds, type CompiledCalendar } from '../scheduling/index.js'
import { csvDocument, type CsvColumn } from './csv.js'
import { addDays, createLocalTime } from './local-time.js'
import { parseDateRange, type DateRange } from './range.js'
import { createDailyUsage, createHeatmap, MAX_SESSION_S, type DayUsage } from './usage.js'

export { csvCell, csvDocument, csvRecord, BOM, type CsvColumn, type CsvValue } from './csv.js'
export { parseDateRange, MAX_RANGE_DAYS, type DateRange } from './range.js'

export interface ReportsDeps {
  config: Pick<Config, 'timezone' | 'machineIds'>
  clock: Clock
  /** scheduling.history: sessions starting in [from, to), in start order */
  history(range: { from: number; to: number }): AsyncIterable<SessionRecord>
  /** the venue calendar in force (issue 14): each day's opening hours; absent = open all day */
  calendar?: (() => CompiledCalendar) | undefined
  /** audit.query (newest first, paged) */
  audit?: { query(filter: AuditFilter): Promise<AuditPage> } | undefined
  /**
   * What a sold session took, in minor units (payments wire this; absent: takings are blank).
   * Synchronous on purpose: it is asked once per session of a year's stream.
   */
  priceOf?: ((session: SessionRecord) => number | null | undefined) | undefined
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits

export function createReports(deps: ReportsDeps) {
  const { config, clock } = deps
  const tz = config.timezone
  const local = createLocalTime(tz)
  const today = () => dateAt(tz, clock.now() / 1000)

  const range = (query: { from?: string | undefined; to?: string | undefined }): Result<DateRange, 'REPORT_INVALID'> =>
    parseDateRange(query, { today: today(), timeZone: tz })

  /** Seconds a bay can be sold on a date: the calendar's opening hours (0 on a closed day), else the whole local day (23/25 h on DST days). */
  const openSeconds = (date: string, calendar: CompiledCalendar | undefined) => {
    if (calendar) {
      const open = calendar.day(date).open
      return open ? Math.max(0, open.to - open.from) : 0
    }
    const b = dayBounds(tz, date)
    return b.to - b.from
  }

  /** Sessions that overlap [from, to): those starting up to one maximal session before it. */
  async function* overlapping(from: number, to: number): AsyncGenerator<SessionRecord> {
    for await (const s of deps.history({ from: from - MAX_SESSION_S, to })) if (s.end_time > from) yield s
  }

  async function dailyUsage(r: DateRange): Promise<readonly DayUsage[]> {
    const calendar = deps.calendar?.()
    const days = r.dates.map((date) => ({ date, ...dayBounds(tz, date), openS: openSeconds(date, calendar) }))
    const usage = createDailyUsage({ days, machineIds: config.machineIds, local, priceOf: deps.priceOf })
    for await (const s of overlapping(r.from, r.to)) usage.add(s)
    return usage.result()
  }

  const sessionColumns: CsvColumn<SessionRecord>[] = [
    { header: 'session_id', value: (s) => s.session_id },
    { header: 'status', value: (s) => s.status },
    { header: 'bays', value: (s) => s.machine_id.join(',') },
    { header: 'date', value: (s) => local.date(s.start_time) },
    { header: 'start', value: (s) => local.format(s.start_time) },
    { header: 'end', value: (s) => local.format(s.end_time) },
    { header: 'minutes', value: (s) => round(s.duration / 60) },
    { header: 'bay_hours', value: (s) => round((s.duration / 3600) * s.machine_id.length) },
    { header: 'origin', value: (s) => s.origin_node },
    { header: 'booked_by', value: (s) => s.booked_by },
    { header: 'channel', value: (s) => s.channel },
    // Booking details (personal data: exports need reports.read, a staff permission)
    { header: 'customer_name', value: (s) => s.details?.customer_name },
    { header: 'phone', value: (s) => s.details?.phone },
    { header: 'email', value: (s) => s.details?.email },
    { header: 'notes', value: (s) => s.details?.notes },
    { header: 'external_id', value: (s) => s.external_id },
    { header: 'price_minor', value: (s) => (deps.priceOf ? (deps.priceOf(s) ?? null) : null) },
    { header: 'created', value: (s) => local.format(s.created_at) },
    { header: 'updated', value: (s) => local.format(s.updated_at) },
  ]

  const auditColumns: CsvColumn<AuditEntry>[] = [
    { header: 'id', value: (e) => e.id },
    { header: 'time', value: (e) => local.format(e.at) },
    { header: 'actor', value: (e) => e.actor },
    { header: 'kind', value: (e) => e.kind },
    { header: 'session_id', value: (e) => e.session_id },
    { header: 'bays', value: (e) => e.machine_id?.join(',') },
    { header: 'target', value: (e) => e.target },
    { header: 'reason', value: (e) => e.reason },
    { header: 'before', value: (e) => (e.before === null ? null : JSON.stringify(e.before)) },
    { header: 'after', value: (e) => (e.after === null ? null : JSON.stringify(e.after)) },
  ]

  async function* auditEntries(r: DateRange): AsyncGenerator<AuditEntry> {
    if (!deps.audit) return
    let before: string | undefined
    for (;;) {
      const page = await deps.audit.query({ from: r.from, to: r.to, limit: 1000, ...(before !== undefined && { before }) })
      yield* page.entries
      if (page.next === null) return
      before = page.next
    }
  }

  interface BayDay {
    date: string
    machine_id: number
    bookings: number
    sold: number
    blocked: number
    openS: number
  }
  const utilizationColumns: CsvColumn<BayDay>[] = [
    { header: 'date', value: (r) => r.date },
    { header: 'bay', value: (r) => r.machine_id },
    { header: 'sessions', value: (r) => r.bookings },
    { header: 'hours_sold', value: (r) => round(r.sold / 3600) },
    { header: 'hours_blocked', value: (r) => round(r.blocked / 3600) },
    { header: 'hours_open', value: (r) => round(r.openS / 3600) },
    { header: 'utilization_pct', value: (r) => (r.openS > 0 ? round((100 * r.sold) / r.openS, 1) : 0) },
  ]
  function* bayDays(days: readonly DayUsage[]): Generator<BayDay> {
    for (const d of days) {
      for (let b = 0; b < config.machineIds.length; b++) {
        yield { date: d.date, machine_id: config.machineIds[b]!, bookings: d.bookings[b]!, sold: d.sold[b]!, blocked: d.blocked[b]!, openS: d.openS }
      }
    }
  }

  const figures = (sessions: number, sold: number, blocked: number, openS: number, takings: number | null) => ({
    sessions,
    hours_sold: round(sold / 3600),
    hours_blocked: round(blocked / 3600),
    hours_open: round(openS / 3600),
    utilization: openS > 0 ? round(sold / openS, 4) : 0,
    takings_minor: takings === null ? null : Math.round(takings),
  })
  const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0)
  const heatmaps = new Map<string, Promise<Heatmap>>()

  return {
    range,
    /** sessions.csv: one row per session starting in the range, in start order */
    sessionsCsv: (r: DateRange) => csvDocument(sessionColumns, deps.history({ from: r.from, to: r.to })),
    /** audit.csv: the audit log in the range, newest first (as GET /api/audit) */
    auditCsv: (r: DateRange) => csvDocument(auditColumns, auditEntries(r)),
    /** utilization.csv: one row per day and bay */
    async *utilizationCsv(r: DateRange) {
      yield* csvDocument(utilizationColumns, bayDays(await dailyUsage(r)))
    },
    async daily(r: DateRange): Promise<DailyTotals> {
      const bays = config.machineIds.length
      const days = await dailyUsage(r)
      const rows = days.map((d) => ({ date: d.date, ...figures(d.sessions, sum(d.sold), sum(d.blocked), d.openS * bays, d.takings) }))
      const total = (pick: (d: DayUsage) => number) => days.reduce((a, d) => a + pick(d), 0)
      const takings = deps.priceOf ? total((d) => d.takings ?? 0) : null
      return {
        timezone: tz,
        from_date: r.fromDate,
        to_date: r.toDate,
        bays,
        days: rows,
        totals: figures(total((d) => d.sessions), total((d) => sum(d.sold)), total((d) => sum(d.blocked)), total((d) => d.openS * bays), takings),
      }
    },
    /**
     * The last `weeks` full weeks before today, per bay and hour of the week. Only ended days are
     * in it and an ended session never changes (only cancelling one still running past midnight
     * could, and that is left for the next day), so each (weeks, today) is computed once a day.
     */
    heatmap(weeks: number): Promise<Heatmap> {
      const key = `${weeks}|${today()}`
      let cached = heatmaps.get(key)
      if (!cached) {
        if (heatmaps.size >= 8) heatmaps.delete(heatmaps.keys().next().value!)
        cached = computeHeatmap(weeks)
        heatmaps.set(key, cached)
        // a failed read is not remembered
        cached.catch(() => heatmaps.delete(key))
      }
      return cached
    },
  }

  async function computeHeatmap(weeks: number): Promise<Heatmap> {
      const toDate = addDays(today(), -1)
      const fromDate = addDays(today(), -7 * weeks)
      const from = dayBounds(tz, fromDate).from
      const to = dayBounds(tz, toDate).to
      const map = createHeatmap({ from, to, machineIds: config.machineIds, local })
      for await (const s of overlapping(from, to)) map.add(s)
      return {
        timezone: tz, weeks, from_date: fromDate, to_date: toDate, from, to,
        machines: [...config.machineIds],
        utilization: map.result(),
        hours_sold: map.soldHours().map((h) => round(h)),
      }
  }
}

export type Reports = ReturnType<typeof createReports>
