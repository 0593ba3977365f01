/**
 * What the HTTP interface needs from the rest of the hub. src/hub.ts builds these and
 * passes them to buildHttpApp; route files get the same object as plugin options
 * (STYLE §3.9: typed options, not decorators).
 */
import type { Logger } from 'pino'
import type { Config } from '../../config/index.js'
import type { Clock } from '../../lib/clock.js'
import type { EventBus } from '../../lib/event-bus.js'
import type { Role } from '../../protocol/identity.js'
import type { HubEvents } from '../../protocol/events.js'
import type { Machines } from '../../machines/types.js'
import type { Scheduling } from '../../scheduling/types.js'
import type { Timekeeping } from '../../timekeeping/index.js'

export type { Role }

/** Who sent a request, from its bearer token. `name` is the node that owns its sessions. */
export interface Principal {
  name: string
  role: Role
}

export interface HttpDeps {
  config: Config
  log: Logger
  clock: Clock
  events: EventBus<HubEvents>
  machines: Machines
  scheduling: Scheduling
  /** API token -> principal (src/broker/credentials.ts verifyApiToken); undefined = unknown token */
  verifyToken: (token: string) => Principal | undefined
  /** the admin bearer token (HUB_ADMIN_TOKEN or the generated one); always role admin */
  adminToken: string
  /** extra parts of /api/health, e.g. the cloud link status */
  health?: () => object
  /** extra Prometheus text appended to /metrics */
  metrics?: () => string
  /** the hub's clock trust (issue 15): /api/clock, `clock` on /api/health, the live feed */
  timekeeping?: Timekeeping
  /** reported by /api/health; defaults to package.json's version */
  version?: string
}

/** What each route file receives as its plugin options (built once in app.ts). */
export interface RouteContext extends HttpDeps {
  /** onRequest hook admitting only the given roles */
  guard: (...roles: Role[]) => import('fastify').onRequestHookHandler
  /** failed-auth and booking rate limits (limits.ts) */
  limits: import('./limits.js').HttpLimits
  /** today's date in HUB_TIMEZONE */
  today(): string
}
