/**
 * The admin page at `/`, the kiosk page at `/kiosk`, and their assets at `/assets/<file>`
 * (DESIGN §6). Plain ES modules, no build step. A tiny route instead of @fastify/static:
 * fewer than ten files with fixed names, no directory listing, no traversal (names must
 * match a strict pattern and exist in the folder), and no extra dependency to pin.
 * The folder is src/interfaces/public, found from src/ (tsx), from dist/ (built) or from
 * dist/hub.cjs (the bundle this file is part of in production).
 */
import { existsSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { RouteContext } from '../deps.js'
import { HttpError } from '../errors.js'

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
}
const ASSET = /^[a-z0-9-]+\.(js|css|svg)$/

export function publicDir(): string {
  const candidates = ['../../public/', '../../../../src/interfaces/public/', '../src/interfaces/public/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  const found = candidates.find((dir) => existsSync(`${dir}admin.html`))
  if (!found) throw new Error(`interfaces/public not found (looked in ${candidates.join(', ')})`)
  return found
}

export const pageRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app) => {
  const dir = publicDir()
  const assets = new Set((await readdir(dir)).filter((name) => ASSET.test(name)))

  const send = async (name: string, reply: import('fastify').FastifyReply) => {
    const ext = name.slice(name.lastIndexOf('.') + 1)
    // no-cache: the Pi is updated in place; browsers revalidate instead of running old code.
    return reply
      .header('cache-control', 'no-cache')
      // CSP, nosniff and referrer-policy no-referrer (the kiosk's ?token= never leaves in a
      // Referer) come from the app-wide security headers (app.ts), as on every response.
      .type(TYPES[ext] ?? 'application/octet-stream')
      .send(await readFile(`${dir}${name}`))
  }
  const hide = { schema: { hide: true } }

  app.get('/', hide, (_request, reply) => send('admin.html', reply))
  app.get('/kiosk', hide, (_request, reply) => send('kiosk.html', reply))
  app.get('/assets/:file', { schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 64 }) }) } }, (request, reply) => {
    const { file } = request.params
    if (!assets.has(file)) throw new HttpError(404, 'NOT_FOUND', `no asset ${file}`)
    return send(file, reply)
  })
}
