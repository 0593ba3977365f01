/**
 * POST /api/link/reservations: the cloud pushes one reservation or `{ "reservations": [...] }`.
 * Authenticated by HMAC-SHA256 with HUB_WEBHOOK_SECRET over `<timestamp>.<raw body>`, sent as
 * `X-Hub-Signature-256: sha256=<hex>` with the timestamp (epoch seconds) in `X-Hub-Timestamp`,
 * compared in constant time. A timestamp more than 5 minutes from the hub's clock is refused, so a
 * captured request cannot be replayed later (issue 10 defect 8); within those 5 minutes a replay
 * of an older version is ignored by the `updated_at` ordering in reservations.ts. Answers each outcome.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Clock } from '../lib/clock.js'
import type { ReservationSync } from './reservations.js'
import { Type } from 'typebox'

export const WEBHOOK_PATH = '/api/link/reservations'
export const SIGNATURE_HEADER = 'x-hub-signature-256'
export const TIMESTAMP_HEADER = 'x-hub-timestamp'
/** Largest accepted difference between the signed timestamp and the hub's clock (Stripe and Slack use the same). */
export const MAX_SKEW_S = 5 * 60

/** The signature of a body sent at `timestampS` (epoch seconds): HMAC over `timestamp.body`. */
export function signature(secret: string, body: string, timestampS: number): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`
}

function signedBy(secret: string, body: string, timestampS: number, header: unknown): boolean {
  if (typeof header !== 'string') return false
  const expected = Buffer.from(signature(secret, body, timestampS))
  const given = Buffer.from(header)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** The signed timestamp, or why it is refused. */
function timestampOf(header: unknown, nowS: number): { ok: true; value: number } | { ok: false; message: string } {
  if (typeof header !== 'string' || !/^\d{1,12}$/.test(header)) {
    return { ok: false, message: `${TIMESTAMP_HEADER}: missing or not epoch seconds` }
  }
  const value = Number(header)
  if (Math.abs(nowS - value) > MAX_SKEW_S) {
    return { ok: false, message: `${TIMESTAMP_HEADER}: ${value} is more than ${MAX_SKEW_S} s from the hub's clock (${Math.floor(nowS)}); refused as a possible replay` }
  }
  return { ok: true, value }
}

/**
 * The route in the OpenAPI document (/docs). Documentation only: no body or header schema, since
 * the signature is checked over the raw bytes before any parsing, and an unsigned request must get
 * its 401 (not a 400 from header validation).
 */
const ErrorReply = Type.Object({ error: Type.String(), message: Type.String() })
const DOC = {
  tags: ['link'],
  summary: 'The cloud pushes one reservation, or { "reservations": [...] }, signed with HUB_WEBHOOK_SECRET',
  description:
    `Headers: \`${TIMESTAMP_HEADER}: <epoch seconds>\` and \`${SIGNATURE_HEADER}: sha256=<hex>\`, the HMAC-SHA256 with ` +
    `HUB_WEBHOOK_SECRET of \`<timestamp>.<raw body>\`. A timestamp more than ${MAX_SKEW_S / 60} minutes from the hub's clock is refused. ` +
    'Body: `{ "external_id", "bays": [ids], "start": epoch s, "duration_minutes", "status": "booked" | "cancelled", "updated_at"? }` ' +
    'or `{ "reservations": [ ... ] }`. Answers `{ "results": [...] }`, one outcome per reservation (confirmed, refused with the reason, or ignored as older). ' +
    '401: unsigned, wrongly signed or stale; 400: not JSON, or the single reservation is invalid (the message names the field); 404: the webhook is off (HUB_WEBHOOK_SECRET unset).',
  response: {
    400: ErrorReply,
    401: ErrorReply,
    404: ErrorReply,
  },
}

export function reservationWebhook(secret: string | null, sync: ReservationSync, clock: Clock) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    // The signature covers the exact bytes sent, so keep the raw body (this plugin's scope only).
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body))
    app.post(WEBHOOK_PATH, { schema: DOC }, async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : ''
      if (!secret) return reply.code(404).send({ error: 'Not Found', message: 'the reservation webhook is off (HUB_WEBHOOK_SECRET unset)' })
      const stamp = timestampOf(req.headers[TIMESTAMP_HEADER], clock.now() / 1000)
      if (!stamp.ok) return reply.code(401).send({ error: 'Unauthorized', message: stamp.message })
      if (!signedBy(secret, raw, stamp.value, req.headers[SIGNATURE_HEADER])) {
        return reply.code(401).send({ error: 'Unauthorized', message: `${SIGNATURE_HEADER}: missing or wrong signature (HMAC-SHA256 of "<${TIMESTAMP_HEADER}>.<body>")` })
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
