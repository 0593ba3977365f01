/**
 * The payment terminal / gateway adapter (issue 12): an HTTP gateway in front of the card
 * terminal, so card data never reaches the Pi (DESIGN §9). The hub
 *   1. stores the request on the held session (durable), then
 *   2. POSTs `{HUB_PAYMENT_URL}/payments` (signed like the callbacks),
 *   3. learns the outcome from the gateway's callback (HMAC-signed with a timestamp) or, when a
 *      callback is lost (hub down, network), from polling `GET {HUB_PAYMENT_URL}/payments/{id}`.
 * Outcomes are idempotent by payment id: a duplicate callback, or a poll after the callback,
 * changes nothing. The request/callback format is in the README ("Prices and payments").
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import { err, ok, type Result } from '../lib/result.js'
import type { Actor } from '../protocol/actor.js'
import { decoderFor } from '../protocol/codec.js'
import type { SessionRecord } from '../protocol/messages.js'
import { TerminalCallback } from '../protocol/payments.js'
import { amountDue, type Scheduling } from '../scheduling/index.js'
import type { PaymentsErrorCode } from './types.js'

export const CALLBACK_PATH = '/api/payments/terminal/callback'
export const SIGNATURE_HEADER = 'x-hub-signature-256'
export const TIMESTAMP_HEADER = 'x-hub-timestamp'
/** Largest difference between a callback's signed timestamp and the hub's clock (as the reservation webhook). */
export const MAX_SKEW_S = 5 * 60
/** Largest gateway answer read (bytes): a status is a few hundred. */
export const MAX_ANSWER_BYTES = 64 * 1024
export const TERMINAL_ACTOR = { kind: 'node', name: 'payment_terminal' } satisfies Actor

/** HMAC-SHA256 over `<timestamp>.<body>`, hex, prefixed `sha256=`. */
export function signature(secret: string, body: string, timestampS: number): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`
}

/** Why a signed request is refused, or undefined when it is signed by `secret` within MAX_SKEW_S. */
export function signatureProblem(secret: string, body: string, headers: Record<string, unknown>, nowS: number): string | undefined {
  const stamp = headers[TIMESTAMP_HEADER]
  if (typeof stamp !== 'string' || !/^\d{1,12}$/.test(stamp)) return `${TIMESTAMP_HEADER}: missing or not epoch seconds`
  const ts = Number(stamp)
  if (Math.abs(nowS - ts) > MAX_SKEW_S) return `${TIMESTAMP_HEADER}: ${ts} is more than ${MAX_SKEW_S} s from the hub's clock (${Math.floor(nowS)}); refused as a possible replay`
  const given = headers[SIGNATURE_HEADER]
  const expected = Buffer.from(signature(secret, body, ts))
  if (typeof given !== 'string' || Buffer.byteLength(given) !== expected.length || !timingSafeEqual(Buffer.from(given), expected)) {
    return `${SIGNATURE_HEADER}: missing or wrong signature (HMAC-SHA256 of "<${TIMESTAMP_HEADER}>.<body>")`
  }
  return undefined
}

const decodeOutcome = decoderFor(TerminalCallback)

export interface TerminalDeps {
  url: string
  secret: string
  clock: Clock
  log: Logger
  scheduling: Scheduling
  siteId: string
  pollSeconds: number
}

export interface TerminalResult {
  session: SessionRecord
  /** this outcome was known already: nothing changed */
  duplicate: boolean
}

export interface Terminal {
  /** asks the gateway to take the amount due on a session (the kiosk then shows "tap your card") */
  request(sessionId: number): Promise<Result<SessionRecord, PaymentsErrorCode>>
  /** a callback body that passed the signature check */
  outcome(body: unknown): Promise<Result<TerminalResult, PaymentsErrorCode>>
  /** asks the gateway for every pending request's status now */
  poll(): Promise<void>
  start(): void
  stop(): Promise<void>
}

/** Reads at most MAX_ANSWER_BYTES of an answer (hostile or broken gateways included). */
async function cappedText(res: Response): Promise<string> {
  const reader = res.body?.getReader()
  if (!reader) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel()
      throw new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export function createTerminal(deps: TerminalDeps): Terminal {
  const { url, secret, clock, log, scheduling } = deps
  const base = url.replace(/\/+$/, '')
  const nowS = () => clock.now() / 1000
  let timer: (() => void) | null = null
  let stopped = true
  let polling: Promise<void> | null = null

  const send = async (method: 'GET' | 'POST', path: string, body: string): Promise<{ status: number; json: unknown }> => {
    const ts = Math.floor(nowS())
    const res = await fetch(base + path, {
      method,
      headers: {
        accept: 'application/json',
        ...(method === 'POST' && { 'content-type': 'application/json' }),
        [TIMESTAMP_HEADER]: String(ts),
        [SIGNATURE_HEADER]: signature(secret, body, ts),
      },
      ...(method === 'POST' && { body }),
      signal: AbortSignal.timeout(5000),
    })
    const text = await cappedText(res)
    let json: unknown = null
    try {
      json = text ? JSON.parse(text) : null
    } catch {
      json = null
    }
    return { status: res.status, json }
  }

  const pending = (s: SessionRecord | undefined) => s?.payment_request?.status === 'pending' ? s.payment_request : undefined

  const outcome = async (body: unknown): Promise<Result<TerminalResult, PaymentsErrorCode>> => {
    const decoded = decodeOutcome.check(body)
    if (!decoded.ok) return err('PAYMENT_INVALID', decoded.message, decoded.field)
    const result = decoded.value
    const session = scheduling.findByPayment(result.payment_id)
    const request = session?.payment_request
    if (!session || !request || request.payment_id !== result.payment_id) {
      return err('PAYMENT_UNKNOWN', `payment_id: ${result.payment_id} is no payment request of this hub`, 'payment_id')
    }
    if (result.status === 'approved') {
      if (result.amount !== request.amount || result.currency !== request.currency) {
        return err('PAYMENT_INVALID', `amount: ${result.amount} ${result.currency} is not the requested ${request.amount} ${request.currency}; nothing was marked paid`, 'amount')
      }
      const paid = await scheduling.pay(
        session.session_id,
        { payment_id: `terminal:${result.payment_id}`, provider: 'terminal', reference: result.reference ?? result.payment_id, amount: result.amount, currency: result.currency, late: 'refund' },
        { origin: TERMINAL_ACTOR.name, isAdmin: true, actor: TERMINAL_ACTOR },
      )
      if (!paid.ok) return err('PAYMENT_INVALID', paid.message, paid.field)
      if (paid.value.refund) log.warn({ sessionId: session.session_id, paymentId: result.payment_id }, 'terminal payment after the hold expired: refund requested')
      return ok({ session: paid.value.session, duplicate: paid.value.replay })
    }
    // Declined or failed: the kiosk says so; the hold runs on until it is paid another way or expires.
    if (request.status !== 'pending') return ok({ session, duplicate: true })
    const changed = await scheduling.setPaymentRequest(session.session_id, { ...request, status: result.status, ...(result.message !== undefined && { message: result.message }) })
    if (!changed.ok) return err('PAYMENT_INVALID', changed.message, changed.field)
    return ok({ session: changed.value, duplicate: false })
  }

  const request = async (sessionId: number): Promise<Result<SessionRecord, PaymentsErrorCode>> => {
    const session = scheduling.get(sessionId)
    if (!session) return err('SESSION_NOT_FOUND', `session_id: no session ${sessionId}`, 'session_id')
    const waiting = pending(session)
    if (waiting) return ok(session) // asked twice (a lost reply): the same request stands
    const due = amountDue(session)
    if (session.status === 'cancelled' || session.status === 'completed') return err('PAYMENT_INVALID', `session_id: session ${sessionId} is ${session.status}${session.released === 'hold_expired' ? ' (its hold expired)' : ''}`, 'session_id')
    if (due === 0 || !session.price) return err('PAYMENT_INVALID', `session_id: session ${sessionId} has nothing to pay`, 'session_id')
    const paymentId = `${deps.siteId}-${sessionId}-${randomBytes(6).toString('hex')}`
    const stored = await scheduling.setPaymentRequest(sessionId, { payment_id: paymentId, provider: 'terminal', amount: due, currency: session.price.currency, created_at: nowS(), status: 'pending' })
    if (!stored.ok) return err('PAYMENT_INVALID', stored.message, stored.field)
    const body = JSON.stringify({
      payment_id: paymentId,
      amount: due,
      currency: session.price.currency,
      session_id: sessionId,
      machine_id: session.machine_id,
      description: `${session.machine_id.length === 1 ? 'Bay' : 'Bays'} ${session.machine_id.join(', ')}, ${Math.round((session.end_time - session.start_time) / 60)} min`,
      ...(session.hold_until !== undefined && { expires_at: session.hold_until }),
      callback_path: CALLBACK_PATH,
    })
    try {
      const answer = await send('POST', '/payments', body)
      if (answer.status < 200 || answer.status >= 300) throw new Error(`the gateway answered HTTP ${answer.status}`)
    } catch (error) {
      const message = `terminal: ${(error as Error).message}`
      log.warn({ sessionId, paymentId, err: error }, 'payment request failed')
      const failed = scheduling.get(sessionId)?.payment_request
      // A callback may have beaten the answer; only a still-pending request is marked failed.
      if (failed?.payment_id === paymentId && failed.status === 'pending') await scheduling.setPaymentRequest(sessionId, { ...failed, status: 'failed', message })
      return err('PAYMENT_UNAVAILABLE', `${message}; pay at the counter or try again`)
    }
    return ok(scheduling.get(sessionId) ?? stored.value)
  }

  const pollOnce = async () => {
    const waiting = scheduling.list().filter((s) => pending(s) !== undefined)
    for (const session of waiting) {
      const id = session.payment_request!.payment_id
      try {
        const answer = await send('GET', `/payments/${encodeURIComponent(id)}`, '')
        if (answer.status !== 200) continue
        const status = (answer.json as { status?: unknown } | null)?.status
        if (status === 'pending') continue
        const done = await outcome(answer.json)
        if (!done.ok) log.warn({ paymentId: id, message: done.message }, 'terminal status refused')
      } catch (error) {
        log.debug({ paymentId: id, err: error }, 'terminal status poll failed; next poll retries')
      }
    }
  }

  const arm = () => {
    if (stopped) return
    timer = clock.setTimeout(() => {
      polling = pollOnce()
        .catch((error: unknown) => log.error({ err: error }, 'terminal poll failed'))
        .finally(() => {
          polling = null
          arm()
        })
    }, deps.pollSeconds * 1000)
  }

  return {
    request,
    outcome,
    poll: pollOnce,
    start() {
      stopped = false
      // At start, too: a callback lost while the hub was down is caught up at once.
      polling = pollOnce()
        .catch((error: unknown) => log.error({ err: error }, 'terminal poll failed'))
        .finally(() => {
          polling = null
          arm()
        })
    },
    async stop() {
      stopped = true
      timer?.()
      timer = null
      await polling
    },
  }
}
