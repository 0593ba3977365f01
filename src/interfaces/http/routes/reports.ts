/**
 * Reports (issue 13): CSV exports (`GET /api/export/{sessions,audit,utilization}.csv`) and the
 * admin page's utilization heat-map and per-day totals. All read `reports.read`; exports stream.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DailyTotals, Heatmap, HeatmapQuery, ReportRange } from '../../../protocol/reports.js'
import type { DateRange } from '../../../reports/index.js'
import type { RouteContext } from '../deps.js'
import { CsvBody, csvFilename, sendCsv } from '../csv-reply.js'
import { HttpError } from '../errors.js'
import { ErrorBody, authErrors } from '../schemas.js'

const security = [{ bearer: [] }]

export const reportRoutes: FastifyPluginAsyncTypebox<RouteContext & { reports: import('../../../reports/index.js').Reports }> = async (app, ctx) => {
  const read = ctx.guard('reports.read')
  const { reports } = ctx
  const rangeOf = (query: ReportRange): DateRange => {
    const r = reports.range(query)
    if (!r.ok) throw new HttpError(400, r.code, r.message)
    return r.value
  }
  const csvSchema = (summary: string) => ({
    tags: ['reports'],
    security,
    summary,
    description: 'Local dates in HUB_TIMEZONE, both inclusive; default the last 30 days; at most 366 days. Opens in a spreadsheet (UTF-8 with BOM); text cells that could run as a formula start with an apostrophe.',
    querystring: ReportRange,
    response: { 200: CsvBody, 400: ErrorBody, 429: ErrorBody, ...authErrors },
  })

  app.get('/api/export/sessions.csv', { onRequest: read, schema: csvSchema('Sessions starting in the range (live and archived), in start order') }, (request, reply) => {
    const r = rangeOf(request.query)
    sendCsv(reply as never, csvFilename('sessions', r.fromDate, r.toDate), reports.sessionsCsv(r))
  })
  app.get('/api/export/audit.csv', { onRequest: read, schema: csvSchema('The audit log in the range, newest first') }, (request, reply) => {
    const r = rangeOf(request.query)
    sendCsv(reply as never, csvFilename('audit', r.fromDate, r.toDate), reports.auditCsv(r))
  })
  app.get('/api/export/utilization.csv', { onRequest: read, schema: csvSchema('Per day and bay: sessions, hours sold, blocked and open, utilization') }, (request, reply) => {
    const r = rangeOf(request.query)
    sendCsv(reply as never, csvFilename('utilization', r.fromDate, r.toDate), reports.utilizationCsv(r))
  })

  app.get(
    '/api/reports/heatmap',
    {
      onRequest: read,
      schema: {
        tags: ['reports'],
        security,
        summary: 'Utilization per bay and hour of the week over the last N full weeks (today excluded)',
        querystring: HeatmapQuery,
        response: { 200: Heatmap, 400: ErrorBody, ...authErrors },
      },
    },
    (request) => reports.heatmap(request.query.weeks ?? 4),
  )
  app.get(
    '/api/reports/daily',
    {
      onRequest: read,
      schema: {
        tags: ['reports'],
        security,
        summary: 'Per-day totals: sessions, bay hours sold / blocked / open, utilization, takings (null until payments exist)',
        querystring: ReportRange,
        response: { 200: DailyTotals, 400: ErrorBody, ...authErrors },
      },
    },
    (request) => reports.daily(rangeOf(request.query)),
  )
}
