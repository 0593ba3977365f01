/**
 * Report shapes (issue 13): the admin page's utilization heat-map and per-day totals, defined
 * once for the route schemas, the OpenAPI document and the tests.
 */
import { Type, type Static } from 'typebox'

const IsoDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD in HUB_TIMEZONE' })

/** Query of GET /api/reports/daily and the CSV exports: local dates, both inclusive. */
export const ReportRange = Type.Object(
  {
    from: Type.Optional(Type.String({ maxLength: 10, description: 'first date, YYYY-MM-DD (default: 29 days before `to`)' })),
    to: Type.Optional(Type.String({ maxLength: 10, description: 'last date, YYYY-MM-DD, inclusive (default: today); at most 366 days after `from`' })),
  },
  { additionalProperties: false },
)
export type ReportRange = Static<typeof ReportRange>

export const MAX_HEATMAP_WEEKS = 52
export const HeatmapQuery = Type.Object(
  { weeks: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HEATMAP_WEEKS, default: 4, description: 'full weeks before today' })) },
  { additionalProperties: false },
)

export const Heatmap = Type.Object({
  timezone: Type.String(),
  weeks: Type.Integer(),
  /** the window: full local days, today excluded */
  from_date: IsoDate,
  to_date: IsoDate,
  from: Type.Number({ description: 'epoch s' }),
  to: Type.Number({ description: 'epoch s, exclusive' }),
  machines: Type.Array(Type.Integer()),
  /** per bay (order of `machines`): 168 fractions 0..1 of the hour sold, Monday 00:00-01:00 first */
  utilization: Type.Array(Type.Array(Type.Number())),
  /** per bay: hours sold in the window */
  hours_sold: Type.Array(Type.Number()),
})
export type Heatmap = Static<typeof Heatmap>

const DayFigures = {
  /** sessions sold that start this day (a group booking is one) */
  sessions: Type.Integer(),
  /** bay hours sold (reserved, active, completed; a group booking sells each bay) */
  hours_sold: Type.Number(),
  /** bay hours under maintenance blocks */
  hours_blocked: Type.Number(),
  /** bay hours open for sale: bays x opening hours (or the whole day) */
  hours_open: Type.Number(),
  /** hours_sold / hours_open, 0..1 */
  utilization: Type.Number(),
  /** takings in minor units; null until the hub records payments */
  takings_minor: Type.Union([Type.Integer(), Type.Null()]),
}

export const DailyTotals = Type.Object({
  timezone: Type.String(),
  from_date: IsoDate,
  to_date: IsoDate,
  bays: Type.Integer(),
  days: Type.Array(Type.Object({ date: IsoDate, ...DayFigures })),
  totals: Type.Object(DayFigures),
})
export type DailyTotals = Static<typeof DailyTotals>
