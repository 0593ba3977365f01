/**
 * buildHttpApp(deps): the Fastify app of DESIGN §6 — REST, live feed, OpenAPI, pages.
 * It never listens; src/hub.ts calls `app.listen()` and tests use `inject` / `injectWS`.
 * Route files are registered explicitly here (STYLE §3.10: no autoload), each getting the
 * same typed RouteContext as plugin options (STYLE §3.9: no decorators as service locator).
 */
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import swagger from '@fastify/swagger'
import websocket from '@fastify/websocket'
import helmet from 'helmet'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { createCookieCheck, createGuard, createTokenCheck } from './auth.js'
import { compileCalendar, dateAt } from '../../scheduling/index.js'
import type { HttpDeps, RouteContext } from './deps.js'
import { docsRoutes } from './docs.js'
import { installErrorHandlers } from './errors.js'
import { installLimits } from './limits.js'
import { lazyCompilers } from './lazy-compilers.js'
import { lazyRequestLogger } from './request-logger.js'
import { createMetricsCollector } from './metrics-collector.js'
import { createHubMetrics } from '../../metrics/index.js'
import { createLiveFeed } from './live-feed.js'
import { healthRoutes } from './routes/health.js'
import { metricsRoutes } from './routes/metrics.js'
import { sessionRoutes } from './routes/sessions.js'
import { scheduleRoutes } from './routes/schedule.js'
import { machineRoutes } from './routes/machines.js'
import { alertRoutes } from './routes/alerts.js'
import { clockRoutes } from './routes/clock.js'
import { pageRoutes } from './routes/pages.js'
import { authRoutes } from './routes/auth.js'
import { staffRoutes } from './routes/staff.js'
import { auditRoutes } from './routes/audit.js'
import { deviceRoutes } from './routes/devices.js'
import { reportRoutes } from './routes/reports.js'
import { createReports } from '../../reports/index.js'
import { calendarRoutes } from './routes/calendar.js'
import { firmwareRoutes } from './routes/firmware.js'
import { affectedRoutes } from './routes/affected.js'
import { paymentRoutes, terminalCallback } from './routes/payments.js'
import { readVersion } from './version.js'
import { MAX_PAYLOAD_BYTES } from '../../protocol/codec.js'

/**
 * Security headers on every response (issue 10), pages, /docs and /api alike. The CSP admits
 * only the hub's own scripts (the pages and swagger-ui load no inline script); inline *styles*
 * stay allowed because the grid positions blocks with style attributes. The hub serves plain
 * HTTP on the venue LAN, so no HSTS and no upgrade-insecure-requests (they would break the pages).
 * `connect-src 'self'` covers the same-origin /api/live WebSocket.
 */
export const securityHeaders = {
  hsts: false,
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      baseUri: ["'none'"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'", 'data:'],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      imgSrc: ["'self'", 'data:'],
      objectSrc: ["'none'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
    },
  },
  // The pages are never framed: no clickjacking of the admin overrides.
  frameguard: { action: 'deny' as const },
}

/** What a response-header middleware sets and removes. */
export interface RecordedHeaders {
  set: Array<[string, string]>
  remove: string[]
}

type HeaderMiddleware = (req: never, res: never, next: (error?: unknown) => void) => void

function recordOnce(middleware: HeaderMiddleware): RecordedHeaders | undefined {
  const recorded: RecordedHeaders = { set: [], remove: [] }
  let finished = false
  let failed = false
  const own = {
    setHeader: (name: string, value: unknown) => recorded.set.push([name, String(value)]),
    removeHeader: (name: string) => recorded.remove.push(name),
  }
  // Reading anything of the request, or of the response beyond setting headers: per request.
  const req = new Proxy({}, { get: () => ((failed = true), undefined) })
  const res = new Proxy(own, { get: (target, prop) => (Object.hasOwn(target, prop) ? target[prop as keyof typeof own] : ((failed = true), undefined)) })
  try {
    middleware(req as never, res as never, (error) => {
      finished = true
      if (error) failed = true
    })
  } catch {
    return undefined
  }
  return finished && !failed ? recorded : undefined
}

/**
 * Runs a header middleware against a recording response: helmet's headers for our options are the
 * same on every response (no function in the CSP), so they are set from this list (issue 17:
 * helmet walked its 13 middlewares per request). Undefined when the middleware does not finish at
 * once, reads the request or the response, or sets other headers the second time (a nonce): then
 * it must run per request.
 */
export function recordHeaders(middleware: HeaderMiddleware): RecordedHeaders | undefined {
  const first = recordOnce(middleware)
  const second = first && recordOnce(middleware)
  return first && second && JSON.stringify(first) === JSON.stringify(second) ? first : undefined
}

function serializeRequest(req: { method: string; url: string; ip?: string }) {
  return { method: req.method, url: req.url.replace(/([?&]token=)[^&]*/g, '$1[redacted]'), remoteAddress: req.ip }
}

/** A route as registered: what the role table test (test/interfaces/http/roles.test.ts) walks. */
export interface RouteInfo {
  method: string
  url: string
}

const routeLists = new WeakMap<object, RouteInfo[]>()

/** Every route the app registered (HEAD twins of GET routes left out), in registration order. */
export function routesOf(app: object): readonly RouteInfo[] {
  return routeLists.get(app) ?? []
}

export async function buildHttpApp(deps: HttpDeps) {
  const app = Fastify({
    // The live feed takes `?token=`; keep tokens out of the request log.
    loggerInstance: deps.log.child({ module: 'http' }, { serializers: { req: serializeRequest } }) as FastifyBaseLogger,
    // Kiosks and the admin page send small JSON bodies only: the MQTT inboxes' cap.
    bodyLimit: MAX_PAYLOAD_BYTES,
    // Two log lines per request cost a booking more than its conflict check (issue 17): at the
    // default level the log keeps what matters (errors, refusals of tokens, changes), and
    // HUB_LOG_LEVEL=debug brings the per-request lines back.
    logController: new LogController({ disableRequestLogging: !deps.log.isLevelEnabled('debug') }),
    // Each request's child logger is made at its first line that writes (issue 17: request-logger.ts).
    childLoggerFactory: lazyRequestLogger,
    // TypeBox validates bodies exactly like the MQTT codec (no type coercion: "5" is not 5, one rule
    // for both doors); query strings and params are converted from text first. Validators and
    // response serializers compile on a route's first request, not at start-up (issue 17).
    schemaController: { compilersFactory: lazyCompilers },
  }).withTypeProvider<TypeBoxTypeProvider>()
  // Every route, for the role table: a route added without a row there fails that test.
  const routes: RouteInfo[] = []
  routeLists.set(app, routes)
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url })
  })
  installErrorHandlers(app)
  // Helmet's headers, built once: @fastify/helmet rebuilt them (CSP parsing included) on every
  // request, a tenth of a booking's time (issue 17); and recorded once, so a request sets them
  // from the list instead of walking helmet's middlewares.
  const applySecurityHeaders = helmet(securityHeaders)
  const recorded = recordHeaders(applySecurityHeaders)
  if (recorded) {
    const { set, remove } = recorded
    app.addHook('onRequest', (_request, reply, done) => {
      const res = reply.raw
      for (const [name, value] of set) res.setHeader(name, value)
      for (const name of remove) res.removeHeader(name)
      done()
    })
  } else {
    app.addHook('onRequest', (request, reply, done) => applySecurityHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined)))
  }
  const limits = await installLimits(app, deps.config)
  const check = createTokenCheck(deps)
  const cookieCheck = createCookieCheck(deps)
  // The hub passes its own (shared with the MQTT door); an app built alone keeps one for itself.
  const registry = deps.metrics ?? createHubMetrics({ events: deps.events })
  const ctx: RouteContext = {
    ...deps,
    metrics: registry,
    version: deps.version ?? readVersion(),
    guard: createGuard(check, cookieCheck, limits),
    limits,
    today: () => dateAt(deps.config.timezone, deps.clock.now() / 1000),
  }

  await app.register(swagger, {
    openapi: {
      info: { title: 'dispenser-hub', version: ctx.version ?? '0.0.0', description: 'Golf range ball-dispenser hub (DESIGN §6)' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  })
  // swagger-ui's pages load it on their first request (issue 17: start-up)
  await docsRoutes(app, { log: deps.log })
  const feed = createLiveFeed({ ...ctx, check, cookieCheck })
  await app.register(websocket, {
    options: { maxPayload: 16 * 1024 },
    // A client's protocol error on the live feed (a frame over maxPayload, invalid UTF-8, a bad
    // opcode, a reset) is bad input, not a hub fault: one warn line without a stack and the socket
    // dropped, instead of the plugin's error-level log with a stack for every such frame (found by
    // the fuzzer). A throwing handler stays an error.
    errorHandler(error, socket, request) {
      const code = (error as NodeJS.ErrnoException).code ?? ''
      if (code.startsWith('WS_ERR_') || code === 'ECONNRESET' || code === 'EPIPE') request.log.warn({ code, reason: error.message.slice(0, 200) }, 'live feed: client protocol error, socket dropped')
      else request.log.error({ err: error }, 'live feed handler failed')
      socket.terminate()
    },
    // Instead of the plugin's default (close with no code): 1001 "going away" tells pages to reconnect.
    preClose(done) {
      feed.stop()
      this.websocketServer.close()
      done()
    },
  })
  const collector = createMetricsCollector({ ctx, events: deps.events, feedClients: () => feed.clients() })
  registry.add(...collector.families)
  app.addHook('onClose', async () => {
    collector.stop()
    if (!deps.metrics) registry.stop()
  })

  await app.register(healthRoutes, ctx)
  await app.register(metricsRoutes, { ...ctx, registry })
  await app.register(sessionRoutes, ctx)
  await app.register(scheduleRoutes, ctx)
  await app.register(machineRoutes, ctx)
  await app.register(alertRoutes, ctx)
  if (deps.timekeeping) await app.register(clockRoutes, { ...ctx, timekeeping: deps.timekeeping })
  await app.register(feed.routes, ctx)
  await app.register(authRoutes, ctx)
  await app.register(staffRoutes, ctx)
  await app.register(auditRoutes, ctx)
  await app.register(deviceRoutes, ctx)
  const reports = deps.reports ?? createReports({ config: deps.config, clock: deps.clock, history: (r) => deps.scheduling.history(r), audit: deps.audit,
    calendar: () => compileCalendar(deps.scheduling.calendar().calendar, deps.config.timezone) })
  await app.register(reportRoutes, { ...ctx, reports })
  await app.register(calendarRoutes, ctx)
  await app.register(firmwareRoutes, ctx)
  await app.register(affectedRoutes, ctx)
  await app.register(paymentRoutes, ctx)
  await app.register(terminalCallback(deps.payments, deps.config.paymentSecret, deps.clock, deps.log.child({ module: 'payments' })))
  await app.register(pageRoutes, ctx)
  return app
}

export type HttpApp = Awaited<ReturnType<typeof buildHttpApp>>
