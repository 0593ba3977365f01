/**
 * Adoption (issue 16): the enrollment window, devices waiting for a bay, identify and assign.
 * Staff and managers (permission fleet.adopt). Every change is audited by the fleet module.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Result } from '../../../lib/result.js'
import { AdoptedDevice, AssignBody, EnrollmentBody, EnrollmentStatus, IdentifyBody, MacParams, PendingDevice } from '../../../protocol/fleet.js'
import type { Fleet, FleetErrorCode } from '../../../fleet/index.js'
import { actorOf, principalOf } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { HttpError } from '../errors.js'
import { ErrorBody, authErrors } from '../schemas.js'

const security = [{ bearer: [] }]
const tags = ['fleet']
const DEFAULT_WINDOW_MINUTES = 5
const DEFAULT_IDENTIFY_SECONDS = 10

const STATUS: Record<FleetErrorCode, number> = {
  FLEET_INVALID: 400,
  FIRMWARE_INVALID: 400,
  DEVICE_UNKNOWN: 404,
  MACHINE_UNKNOWN: 404,
  FIRMWARE_UNKNOWN: 404,
  ROLLOUT_UNKNOWN: 404,
  ENROLLMENT_CLOSED: 409,
  ROLLOUT_CONFLICT: 409,
}

/** The value of a fleet Result, or the HttpError its code maps to. */
export function fleetValue<T>(result: Result<T, FleetErrorCode>): T {
  if (result.ok) return result.value
  throw new HttpError(STATUS[result.code], result.code, result.message)
}

/**
 * The fleet module, or a 404: only an app built without it (the HTTP-only test world) lacks it, and
 * what does not exist there is not a server fault (never a 5xx for a request).
 */
export function fleetOf(ctx: RouteContext): Fleet {
  if (!ctx.fleet) throw new HttpError(404, 'FLEET_UNAVAILABLE', 'this hub runs without the fleet module')
  return ctx.fleet
}

export const deviceRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const guard = ctx.guard('fleet.adopt')
  const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, ...authErrors }

  // Reads answer "nothing here" on a hub built without the fleet module (the HTTP-only test world):
  // the admin page asks them on every sign-in.
  app.get('/api/enrollment', { onRequest: guard, schema: { tags, security, summary: 'The enrollment window and the devices waiting for a bay', response: { 200: EnrollmentStatus, ...authErrors } } }, () =>
    ctx.fleet ? ctx.fleet.enrollment.status() : { open: false, until: null, pending: [] },
  )

  app.post(
    '/api/enrollment',
    {
      onRequest: guard,
      schema: { tags, security, summary: 'Open the enrollment window for some minutes ("permit join"), or shut it', body: EnrollmentBody, response: { 200: EnrollmentStatus, ...errors } },
    },
    async (request) => {
      const by = actorOf(principalOf(request))
      const e = fleetOf(ctx).enrollment
      return request.body.open ? e.open(request.body.minutes ?? DEFAULT_WINDOW_MINUTES, by) : e.close(by)
    },
  )

  app.get('/api/devices/pending', { onRequest: guard, schema: { tags, security, summary: 'Devices waiting for a bay', response: { 200: Type.Array(PendingDevice), ...authErrors } } }, () =>
    ctx.fleet ? ctx.fleet.enrollment.status().pending : [],
  )

  app.get('/api/devices', { onRequest: ctx.guard('machines.read'), schema: { tags, security, summary: 'Adopted devices: which MAC serves which bay', response: { 200: Type.Array(AdoptedDevice), ...authErrors } } }, () =>
    ctx.fleet ? ctx.fleet.devices() : [],
  )

  app.post(
    '/api/devices/:mac/identify',
    {
      onRequest: guard,
      schema: { tags, security, summary: "Blink a waiting device's status LED (never the motor)", params: MacParams, body: IdentifyBody, response: { 200: PendingDevice, ...errors } },
    },
    async (request) => {
      const seconds = request.body.seconds ?? DEFAULT_IDENTIFY_SECONDS
      return fleetValue(await fleetOf(ctx).enrollment.identify(request.params.mac, seconds, actorOf(principalOf(request))))
    },
  )

  app.post(
    '/api/devices/:mac/assign',
    {
      onRequest: guard,
      schema: {
        tags,
        security,
        summary: 'Make a waiting device bay N: it gets a new secret and logs in as machine_N; a device the bay had is replaced and its secret revoked',
        params: MacParams,
        body: AssignBody,
        response: { 200: PendingDevice, ...errors },
      },
    },
    async (request) => fleetValue(await fleetOf(ctx).enrollment.assign(request.params.mac, request.body.machine_id, actorOf(principalOf(request)))),
  )
}
