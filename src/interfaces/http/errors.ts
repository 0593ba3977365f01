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
 *
 * 5xx messages are hidden from the client and logged with the request.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Err, Result } from '../../lib/result.js'

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

const STATUS_BY_CODE: Record<string, number> = {
  SESSION_CONFLICT: 409,
  MACHINE_HELD: 409,
  SESSION_ENDED: 409,
  SESSION_NOT_FOUND: 404,
  MACHINE_UNKNOWN: 404,
  ALERT_UNKNOWN: 404,
  SESSION_INVALID: 400,
  BAYS_NOT_ADJACENT: 400,
  MACHINE_INVALID: 400,
  SESSION_FORBIDDEN: 403,
}

export function statusForCode(code: string): number {
  const known = STATUS_BY_CODE[code]
  if (known !== undefined) return known
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

interface SchemaError {
  instancePath: string
  keyword: string
  message?: string
  params?: Record<string, unknown>
}

const depth = (e: SchemaError) => e.instancePath.split('/').length

function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
}

function describe(e: SchemaError): string {
  const allowed = e.params?.allowedValues
  if (e.keyword === 'enum' && Array.isArray(allowed)) return `must be one of ${allowed.join(', ')}`
  return e.message ?? 'is invalid'
}

/**
 * "body.machine_id: must be integer" — names the field (DESIGN §6). For a union the deepest
 * failing branch is the most specific ("body.machine_id[1]: must be >= 1"); branches failing on
 * the field itself are joined ("must be integer or must be array").
 */
export function validationMessage(errors: readonly SchemaError[], context: string | undefined): string {
  const where = context === 'querystring' ? 'query' : (context ?? 'request')
  const extra = errors.find((e) => e.keyword === 'additionalProperties')
  if (extra) {
    const names = (extra.params?.additionalProperties ?? extra.params?.additionalProperty) as string[] | string | undefined
    const name = Array.isArray(names) ? names[0] : names
    return `${where}${fieldPath(extra.instancePath)}.${name ?? '?'}: is not allowed`
  }
  const branches = errors.filter((e) => e.keyword !== 'anyOf')
  const deepest = Math.max(...branches.map(depth))
  const first = branches.find((e) => depth(e) === deepest) ?? errors[0]
  if (!first) return `${where}: is invalid`
  const path = fieldPath(first.instancePath)
  if (first.keyword === 'required') {
    const missing = first.params?.requiredProperties ?? first.params?.missingProperty
    return `${where}${path}.${String(Array.isArray(missing) ? missing[0] : (missing ?? '?'))}: is required`
  }
  const siblings = branches.filter((e) => e.instancePath === first.instancePath)
  return `${where}${path}: ${[...new Set(siblings.map(describe))].join(' or ')}`
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
