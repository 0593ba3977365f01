/**
 * /docs: the OpenAPI spec (@fastify/swagger, built on request) and the swagger-ui pages, with
 * swagger-ui loaded on the first request for a page of it, not at start-up (issue 17).
 *
 * Why: @fastify/swagger-ui (kept outside the bundle, it serves its own files) pulls in
 * @fastify/static, send, yaml and their dependencies one file at a time: ~250 ms of a start and
 * a few MB of RSS on the Pi, for pages a technician opens now and then. Fastify takes no routes
 * after start, so the same routes the plugin has are declared here at start; their first request
 * builds a small inner Fastify app with the plugin registered under the same prefix, and every
 * request is handed to it with `inject` (its answer copied: status, content headers, body). The
 * outer app's hooks (security headers, limits) apply as before. /docs/json and /docs/yaml need
 * no swagger-ui: they answer from the spec directly, as the plugin does.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type {} from '@fastify/swagger'
import type { Logger } from '../../lib/logger.js'

const PREFIX = '/docs'
/** what the inner app's answer may pass on (the outer reply sets length, date, connection) */
const FORWARDED = ['content-type', 'cache-control', 'etag', 'last-modified', 'location', 'accept-ranges', 'content-range', 'vary'] as const

/** the outer app's spec (@fastify/swagger's `app.swagger()`) */
type Spec = FastifyInstance['swagger']

/** Builds the inner app serving swagger-ui's pages; `swagger` is the outer app's spec. */
async function buildUi(swagger: Spec): Promise<FastifyInstance> {
  const { default: swaggerUi } = await import('@fastify/swagger-ui')
  const inner = Fastify({ logger: false })
  // swagger-ui declares @fastify/swagger as a dependency and calls `fastify.swagger()`: here the
  // outer app's. Fastify's plugin metadata (what fastify-plugin sets) names this stand-in so.
  const standIn = Object.assign(async (app: FastifyInstance) => void app.decorate('swagger', swagger), {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('plugin-meta')]: { name: '@fastify/swagger' },
  })
  await inner.register(standIn)
  await inner.register(swaggerUi, { routePrefix: PREFIX })
  await inner.ready()
  return inner
}

export interface DocsOptions {
  log: Logger
}

/** Registers /docs, /docs/json, /docs/yaml and swagger-ui's pages; @fastify/swagger must be registered on `app` before. */
export async function docsRoutes(app: FastifyInstance, { log }: DocsOptions): Promise<void> {
  const swagger = ((opts?: { yaml?: boolean }) => (opts?.yaml ? app.swagger({ yaml: true }) : app.swagger())) as Spec
  let ui: Promise<FastifyInstance> | undefined
  app.addHook('onClose', async () => {
    if (ui) await (await ui.catch(() => undefined))?.close()
  })

  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    ui ??= buildUi(swagger)
    let inner: FastifyInstance
    try {
      inner = await ui
    } catch (error) {
      // a failed load is retried by the next request; this one is told the pages are unavailable
      ui = undefined
      log.error({ err: error }, 'loading swagger-ui failed')
      return reply.code(503).send({ error: 'the API documentation pages are unavailable' })
    }
    const headers: Record<string, string> = {}
    for (const name of ['accept', 'if-none-match', 'if-modified-since', 'range', 'if-range'] as const) {
      const value = request.headers[name]
      if (typeof value === 'string') headers[name] = value
    }
    const res = await inner.inject({ method: 'GET', url: request.url, headers })
    // a file swagger-ui does not have: the hub's own 404, as for any other unknown path
    if (res.statusCode === 404) return reply.callNotFound()
    reply.code(res.statusCode)
    for (const name of FORWARDED) {
      const value = res.headers[name]
      if (value !== undefined) reply.header(name, value)
    }
    // (a HEAD request is answered by Fastify's HEAD twin of the route, which drops the body)
    return reply.send(res.rawPayload)
  }

  await app.register(
    async (docs) => {
      const hide = { schema: { hide: true } }
      docs.get('/', hide, forward)
      docs.get('/json', hide, async () => swagger())
      docs.get('/yaml', hide, async (_request, reply) => reply.type('application/x-yaml').send(swagger({ yaml: true })))
      docs.get('/static/index.html', hide, forward)
      docs.get('/static/swagger-initializer.js', hide, forward)
      docs.get('/static/*', hide, forward)
    },
    { prefix: PREFIX },
  )
}
