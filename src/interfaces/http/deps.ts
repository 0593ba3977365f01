/**
 * What the HTTP interface needs from the rest of the hub. src/hub.ts builds these and
 * passes them to buildHttpApp; route files get the same object as plugin options
 * (STYLE §3.9: typed options, not decorators).
 */
import type { Logger } from 'pino'
import type { Config } from '../../config/index.js'
import type { Clock } from '../../lib/clock.js'
import type { EventBus } from '../../lib/event-bus.js'
import type { Permission, PrincipalRole } from '../../protocol/permissions.js'
import type { Staff } from '../../staff/index.js'
import type { Audit } from '../../audit/index.js'
import type { Fleet } from '../../fleet/index.js'
import type { Affected } from '../../affected/index.js'
import type { Credits } from '../../credits/index.js'
import type { HubEvents } from '../../protocol/events.js'
import type { Machines } from '../../machines/types.js'
import type { Scheduling } from '../../scheduling/types.js'
import type { Timekeeping } from '../../timekeeping/index.js'
import type { Payments } from '../../payments/index.js'
import type { HubMetrics } from '../../metrics/index.js'

export type Role = PrincipalRole

/**
 * Who sent a request: a bearer token, or a staff user signed in (`user`, acting as the admin
 * portal). `name` is the node that owns the sessions it creates.
 */
export interface Principal {
  name: string
  role: PrincipalRole
  /** the staff user, when signed in with a password */
  user?: string
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
  /** staff users and their sign-ins; without it only bearer tokens are accepted */
  staff?: Staff
  /** the audit log (GET /api/audit) */
  audit?: Pick<Audit, 'query' | 'record'>
  /** adoption and firmware updates (issue 16): /api/devices, /api/enrollment, /api/firmware */
  fleet?: Fleet
  /** CSV exports and utilization reports (issue 13); default: built from `scheduling` and `audit` */
  reports?: import('../../reports/index.js').Reports
  /** credits for lost minutes (issue 11): GET /api/credits, redeem */
  credits?: Credits
  /** affected sessions (issue 11): GET /api/affected, lost_seconds on sessions */
  affected?: Pick<Affected, 'list' | 'get'>
  /** extra parts of /api/health, e.g. the cloud link status */
  health?: () => object
  /** the hub's metrics (src/metrics): /metrics renders them, the booking door times itself on them; default: the app's own */
  metrics?: HubMetrics
  /** the hub's clock trust (issue 15): /api/clock, `clock` on /api/health, the live feed */
  timekeeping?: Timekeeping
  /** reported by /api/health; defaults to package.json's version */
  version?: string
  /** issue 12: prices, quotes and the payment providers */
  payments?: Payments
}

/** What each route file receives as its plugin options (built once in app.ts). */
export interface RouteContext extends HttpDeps {
  /** onRequest hook admitting only principals holding the permission */
  guard: (permission: Permission) => import('fastify').onRequestHookHandler
  /** failed-auth and booking rate limits (limits.ts) */
  limits: import('./limits.js').HttpLimits
  /** today's date in HUB_TIMEZONE */
  today(): string
}
