/**
 * Decoding at the edge (DESIGN §4 "Bad input"): the one size-capped JSON parse and the
 * schema check, whose error names the field so the Confirmation can say what was wrong.
 * MQTT inbox messages go through decodeInbound (inbound.ts), which uses these.
 */
import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { formatValidationError } from './validation.js'

export type Decoded<T> = { ok: true; value: T } | { ok: false; field: string; message: string }

export interface Decoder<S extends TSchema> {
  (payload: Buffer | string | unknown): Decoded<Static<S>>
  /** validate an already-parsed value */
  check(value: unknown): Decoded<Static<S>>
}

/** The largest JSON payload the hub parses from a node (and the HTTP body limit). */
export const MAX_PAYLOAD_BYTES = 64 * 1024

const payloadError = (message: string) => ({ ok: false as const, field: '(payload)', message: `(payload): ${message}` })

/**
 * The one JSON parse of untrusted bytes: the size is checked before the bytes are decoded, and
 * only a JSON object is accepted (every payload of DESIGN §4 is one).
 */
export function parseJsonObject(payload: Buffer | string, maxBytes = MAX_PAYLOAD_BYTES): Decoded<Record<string, unknown>> {
  const size = Buffer.isBuffer(payload) ? payload.length : Buffer.byteLength(payload)
  if (size > maxBytes) return payloadError(`payload is larger than ${maxBytes} bytes`)
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.isBuffer(payload) ? payload.toString('utf8') : payload)
  } catch {
    return payloadError('payload is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return payloadError('payload must be a JSON object')
  return { ok: true, value: parsed as Record<string, unknown> }
}

/**
 * Compiles the schema once, on first use (module-level decoders are many; compiling them all at
 * import was start-up time spent on messages that may not come for hours, issue 17); the
 * returned function parses JSON (capped) and validates.
 */
export function decoderFor<S extends TSchema>(schema: S, maxBytes = MAX_PAYLOAD_BYTES): Decoder<S> {
  const compile = () => Compile(schema)
  let compiled: ReturnType<typeof compile> | undefined
  const check = (value: unknown): Decoded<Static<S>> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return payloadError('payload must be a JSON object')
    const validator = (compiled ??= compile())
    if (validator.Check(value)) return { ok: true, value: value as Static<S> }
    return { ok: false, ...formatValidationError([...validator.Errors(value)]) }
  }
  const decode = ((payload: unknown) => {
    if (Buffer.isBuffer(payload) || typeof payload === 'string') {
      const parsed = parseJsonObject(payload, maxBytes)
      return parsed.ok ? check(parsed.value) : parsed
    }
    return check(payload)
  }) as Decoder<S>
  decode.check = check
  return decode
}
