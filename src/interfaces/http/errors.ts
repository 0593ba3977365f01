/**
 * Every HTTP error is JSON `{ error, message }` (DESIGN §6), produced in one place.
 * Domain modules return coded Results (STYLE §2.4); this file maps the codes to statuses:
 *
 * - *_NOT_FOUND, *_UNKNOWN              -> 404
 * - SESSION_CONFLICT, MACHINE_HELD,
 *   SESSION_ENDED                       -> 409 (the state of the hub refuses it; message names the holder)
 * - SESSION_INVALID, BAYS_NOT_ADJACENT,
 *   MACHINE_INVALID                     -> 400 (the request itself is wrong whatever the state:
 *                                         retrying later cannot help, so it is not a conflict)
 * - SESSION_FORBIDDEN                   -> 403
 * - IDEMPOTENCY_KEY_REUSED              -> 422 (the key answered another request)
 *
 * 5xx messages are hidden from the client and logged with the request.
 */
import type { StaffErrorCode } from '../../staff/index.js'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Err, Result } from '../../lib/result.js'
import { formatValidationError, type SchemaErrorLike } from '../../protocol/validation.js'
import type { MachinesErrorCode } from '../../machines/types.js'
import type { SchedulingErrorCode } from '../../scheduling/types.js'
import type { TimekeepingErrorCode } from '../../timekeeping/index.js'
import type { CreditErrorCode } from '../../credits/index.js'
import type { PaymentsErrorCode } from '../../payments/types.js'

export class HttpError extends Error {
  readonly statusCode: number
  readonly code: string

  constructor(statusCode: number, code: string, message: string) {
    // A refusal (4xx) is an answer, not a fault: its stack is never logged (only 5xx are), and
    // capturing one through Fastify's hooks cost a refused booking more than deciding it (issue 17).
    const limit = Error.stackTraceLimit
    if (statusCode < 500) Error.stackTraceLimit = 0
    try {
      super(message)
    } finally {
      Error.stackTraceLimit = limit
    }
    this.statusCode = statusCode
    this.code = code
    this.name = 'HttpError'
  }
}

/** Every code a module can refuse with. Typed: a new code does not compile until it has a status here. */
export type DomainCode = SchedulingErrorCode | MachinesErrorCode | TimekeepingErrorCode | StaffErrorCode | CreditErrorCode | PaymentsErrorCode | 'NOT_SIGNED_IN'

const STATUS_BY_CODE: Record<DomainCode, number> = {
  SESSION_CONFLICT: 409,
  MACHINE_HELD: 409,
  OVERRIDE_UNCONFIRMED: 409,
  SESSION_ENDED: 409,
  BAY_UNAVAILABLE: 409,
  SESSION_OUTSIDE_HOURS: 409,
  BAY_CLOSED: 409,
  WALK_IN_ONLY: 409,
  CALENDAR_INVALID: 400,
  CALENDAR_AFFECTS_SESSIONS: 409,
  MOVE_NO_ALTERNATIVE: 409,
  // RFC 9110 §15.5.3: the change waits for a payment
  PAYMENT_REQUIRED: 402,
  PAYMENT_INVALID: 409,
  PAYMENT_UNKNOWN: 404,
  // not 5xx: the kiosk shows why (the gateway did not take it) and offers the counter
  PAYMENT_UNAVAILABLE: 409,
  PRICES_INVALID: 400,
  SESSION_NOT_FOUND: 404,
  MACHINE_UNKNOWN: 404,
  ALERT_UNKNOWN: 404,
  ALERT_OPEN: 409,
  SESSION_INVALID: 400,
  BAYS_NOT_ADJACENT: 400,
  MACHINE_INVALID: 400,
  SESSION_FORBIDDEN: 403,
  CLOCK_SYNCHRONISED: 409,
  CLOCK_INVALID: 400,
  // RFC 9110 §15.5.21 / the IETF idempotency-key draft: the key was used with another body.
  IDEMPOTENCY_KEY_REUSED: 422,
  STAFF_INVALID: 400,
  STAFF_EXISTS: 409,
  STAFF_LAST_MANAGER: 409,
  STAFF_NOT_FOUND: 404,
  NOT_SIGNED_IN: 400,
  CREDIT_NOT_FOUND: 404,
  CREDIT_REDEEMED: 409,
  CREDIT_ACCRUING: 409,
  CREDIT_INVALID: 400,
}

export function statusForCode(code: string): number {
  if (Object.hasOwn(STATUS_BY_CODE, code)) return STATUS_BY_CODE[code as DomainCode]
  if (code.endsWith('_NOT_FOUND') || code.endsWith('_UNKNOWN')) return 404
  return 500
}

/** Turns a failed domain Result into the matching HttpError. */
export function domainError(failure: Err): HttpError {
  return new HttpError(statusForCode(failure.code), failure.code, failure.message)
}

/** The value of an ok Result, or throws its HttpError (the error handler answers). */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw domainError(result)
  return result.value
}

/**
 * "body.machine_id: must be integer": the wording MQTT uses too (protocol/validation.ts),
 * with the HTTP location in front.
 */
export function validationMessage(errors: readonly SchemaErrorLike[], context: string | undefined): string {
  return formatValidationError(errors, context === 'querystring' ? 'query' : (context ?? 'request')).message
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.validation) {
      return reply.status(400).send({ error: 'VALIDATION_FAILED', message: validationMessage(error.validation, error.validationContext) })
    }
    if (error instanceof HttpError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, 'request failed')
      const message = error.statusCode >= 500 ? 'internal error' : error.message
      return reply.status(error.statusCode).send({ error: error.code, message })
    }
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed')
      return reply.status(status).send({ error: 'INTERNAL', message: 'internal error' })
    }
    // Fastify's own 4xx (bad JSON, unsupported media type, body too large): safe to show.
    return reply.status(status).send({ error: error.code ?? 'BAD_REQUEST', message: error.message })
  })
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` })
  })
}
