/**
 * /docs (src/interfaces/http/docs.ts): swagger-ui is loaded on the first request for one of its
 * pages, not when the app is built (issue 17, start-up), and its pages and files are then served
 * through the app's own routes: the same answers as the plugin registered directly, the hub's own
 * 404 for a file it does not have, nothing outside its folder.
 */
import { createRequire } from 'node:module'
import t from 'tap'
import { buildWorld } from './world.js'

const require = createRequire(import.meta.url)
const uiEntry = require.resolve('@fastify/swagger-ui')
const uiLoaded = () => uiEntry in require.cache

t.test('swagger-ui loads on the first /docs page, and serves its pages and files from then on', async (t) => {
  const w = await buildWorld(t)
  t.equal(uiLoaded(), false, 'not loaded when the app is built')
  const spec = await w.app.inject({ url: '/docs/json' })
  t.equal(spec.statusCode, 200)
  t.ok(spec.json().paths['/api/health'], 'the spec lists the routes')
  const yaml = await w.app.inject({ url: '/docs/yaml' })
  t.equal(yaml.statusCode, 200)
  t.match(yaml.headers['content-type'], /application\/x-yaml/)
  t.match(yaml.body, /\/api\/health:/)
  t.equal(uiLoaded(), false, 'the spec alone does not load it')

  const page = await w.app.inject({ url: '/docs' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, /swagger-ui/)
  t.match(page.headers['content-security-policy'], /script-src 'self'/, "the app's security headers apply")
  t.equal(uiLoaded(), true, 'loaded by the first page')

  const css = await w.app.inject({ url: '/docs/static/swagger-ui.css' })
  t.equal(css.statusCode, 200)
  t.match(css.headers['content-type'], /text\/css/)
  t.ok(css.rawPayload.length > 10_000, 'the whole file')
  t.equal(Number(css.headers['content-length']), css.rawPayload.length)
  const again = await w.app.inject({ url: '/docs/static/swagger-ui.css', headers: { 'if-none-match': String(css.headers.etag) } })
  t.equal(again.statusCode, 304, 'a cached copy is still good')
  t.equal(again.rawPayload.length, 0)
  const head = await w.app.inject({ method: 'HEAD', url: '/docs' })
  t.equal(head.statusCode, 200)
  t.equal(head.body, '')
  const init = await w.app.inject({ url: '/docs/static/swagger-initializer.js' })
  t.equal(init.statusCode, 200)
  t.match(init.body, /SwaggerUIBundle/)
  const redirect = await w.app.inject({ url: '/docs/static/index.html' })
  t.equal(redirect.statusCode, 302)
  t.equal(redirect.headers.location, '/docs/')
})

t.test('a file swagger-ui does not have: the hub 404, nothing outside its folder', async (t) => {
  const w = await buildWorld(t)
  const unknown = await w.app.inject({ url: '/api/nothing' })
  for (const url of ['/docs/static/nope.js', '/docs/static/../../package.json', '/docs/static/%2e%2e/%2e%2e/package.json', '/docs/static/..%2f..%2fpackage.json']) {
    const res = await w.app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.same(Object.keys(res.json()).sort(), Object.keys(unknown.json()).sort(), `${url}: the same 404 as any unknown path`)
    t.notMatch(res.body, /dispenser-hub/, `${url}: package.json not served`)
  }
})
