/**
 * POST /api/link/reservations: the cloud pushes one reservation or `{ "reservations": [...] }`.
 * Authenticated by HMAC-SHA256 of the raw body with HUB_WEBHOOK_SECRET in
 * `X-Hub-Signature-256: sha256=<hex>`, compared in constant time. Answers each outcome.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { ReservationSync } from './reservations.js'

export const WEBHOOK_PATH = '/api/link/reservations'
export const SIGNATURE_HEADER = 'x-hub-signature-256'

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

function signedBy(secret: string, body: string, header: unknown): boolean {
  if (typeof header !== 'string') return false
  const expected = Buffer.from(signature(secret, body))
  const given = Buffer.from(header)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export function reservationWebhook(secret: string | null, sync: ReservationSync) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    // The signature covers the exact bytes sent, so keep the raw body (this plugin's scope only).
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body))
    app.post(WEBHOOK_PATH, { schema: { hide: true } }, async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : ''
      if (!secret) return reply.code(404).send({ error: 'Not Found', message: 'the reservation webhook is off (HUB_WEBHOOK_SECRET unset)' })
      if (!signedBy(secret, raw, req.headers[SIGNATURE_HEADER])) {
        return reply.code(401).send({ error: 'Unauthorized', message: `${SIGNATURE_HEADER}: missing or wrong signature` })
      }
      let body: unknown
      try {
        body = JSON.parse(raw)
      } catch {
        return reply.code(400).send({ error: 'Bad Request', message: 'body: not valid JSON' })
      }
      const list = typeof body === 'object' && body !== null && Array.isArray((body as { reservations?: unknown }).reservations)
        ? (body as { reservations: unknown[] }).reservations
        : [body]
      const results = []
      for (const item of list) results.push(await sync.apply(item))
      const bad = results.find((r): r is { error: string } => 'error' in r)
      if (bad && list.length === 1) return reply.code(400).send({ error: 'Bad Request', message: bad.error })
      return reply.send({ results })
    })
  }
}
