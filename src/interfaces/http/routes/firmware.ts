/**
 * Firmware updates (issue 16): upload an image (streamed, capped, hashed, optionally signed),
 * list images, start and steer rollouts, watch their progress per bay; and `/fw/<token>`, where
 * dispensers download an image over plain HTTP on the dispenser network (the random token in
 * the URL is the only key: dispensers hold no HTTP credentials).
 */
import { createReadStream } from 'node:fs'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Readable } from 'node:stream'
import { FirmwareImage, FirmwareVersion, Rollout, RolloutAction, RolloutBody } from '../../../protocol/fleet.js'
import { actorOf, principalOf } from '../auth.js'
import type { RouteContext } from '../deps.js'
import { HttpError } from '../errors.js'
import { ErrorBody, authErrors } from '../schemas.js'
import { fleetOf, fleetValue } from './devices.js'

const security = [{ bearer: [] }]
const tags = ['firmware']
const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, ...authErrors }

export const firmwareRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, ctx) => {
  const manage = ctx.guard('firmware.manage')
  const read = ctx.guard('machines.read')
  // The image is streamed to disk by the fleet module, never buffered here (scoped to this plugin).
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload))

  app.post(
    '/api/firmware',
    {
      onRequest: manage,
      schema: {
        tags,
        security,
        summary: 'Upload a firmware image (body: the binary, application/octet-stream)',
        querystring: Type.Object({ version: FirmwareVersion, signature: Type.Optional(Type.String({ maxLength: 200, description: 'base64 Ed25519 signature of the image' })) }),
        response: { 201: FirmwareImage, ...errors },
      },
    },
    async (request, reply) => {
      if (!request.headers['content-type']?.startsWith('application/octet-stream')) {
        throw new HttpError(400, 'VALIDATION_FAILED', 'body: send the image as application/octet-stream')
      }
      const max = ctx.config.firmwareMaxBytes
      const declared = Number(request.headers['content-length'] ?? NaN)
      if (Number.isFinite(declared) && declared > max) throw new HttpError(413, 'FIRMWARE_INVALID', `body: the image is larger than ${max} bytes (HUB_FIRMWARE_MAX_BYTES)`)
      const image = fleetValue(await fleetOf(ctx).firmware.upload(request.body as Readable, request.query.version, request.query.signature, actorOf(principalOf(request))))
      return reply.code(201).send(image)
    },
  )

  app.get('/api/firmware', { onRequest: read, schema: { tags, security, summary: 'Uploaded firmware images', response: { 200: Type.Array(FirmwareImage), ...authErrors } } }, () =>
    ctx.fleet ? ctx.fleet.firmware.list() : [],
  )

  app.post(
    '/api/firmware/rollouts',
    { onRequest: manage, schema: { tags, security, summary: 'Roll an image out to bays, in batches, idle bays only', body: RolloutBody, response: { 201: Rollout, ...errors } } },
    async (request, reply) => reply.code(201).send(fleetValue(await fleetOf(ctx).rollouts.start(request.body, actorOf(principalOf(request))))),
  )

  app.get('/api/firmware/rollouts', { onRequest: read, schema: { tags, security, summary: 'Rollouts with their progress per bay', response: { 200: Type.Array(Rollout), ...authErrors } } }, () =>
    ctx.fleet ? ctx.fleet.rollouts.list() : [],
  )

  app.post(
    '/api/firmware/rollouts/:id',
    {
      onRequest: manage,
      schema: { tags, security, summary: 'Pause, resume or cancel a rollout', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), body: RolloutAction, response: { 200: Rollout, ...errors } },
    },
    async (request) => fleetValue(await fleetOf(ctx).rollouts.act(request.params.id, request.body.action, actorOf(principalOf(request)))),
  )

  app.get(
    '/fw/:token',
    { schema: { hide: true, params: Type.Object({ token: Type.String({ pattern: '^[0-9a-f]{32}$' }) }) } },
    async (request, reply) => {
      const file = fleetOf(ctx).firmware.download(request.params.token)
      if (!file) throw new HttpError(404, 'FIRMWARE_UNKNOWN', 'no such image')
      return reply.header('content-type', 'application/octet-stream').header('content-length', String(file.size)).send(createReadStream(file.path))
    },
  )
}
