/**
 * Decoding at the edge and the one reply helper (DESIGN §4 "Bad input").
 * A decode error names the field, so the Confirmation can say what was wrong.
 */
import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { replyTopic } from './topics.js'
import type { Confirmation } from './messages.js'

export type Decoded<T> = { ok: true; value: T } | { ok: false; field: string; message: string }

export interface Decoder<S extends TSchema> {
  (payload: Buffer | string | unknown): Decoded<Static<S>>
  /** validate an already-parsed value */
  check(value: unknown): Decoded<Static<S>>
}

const MAX_PAYLOAD_BYTES = 64 * 1024

/** Compiles the schema once; the returned function parses JSON and validates. */
export function decoderFor<S extends TSchema>(schema: S): Decoder<S> {
  const validator = Compile(schema)
  const check = (value: unknown): Decoded<Static<S>> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, field: '(payload)', message: 'payload must be a JSON object' }
    }
    if (validator.Check(value)) return { ok: true, value: value as Static<S> }
    const first = firstError(validator.Errors(value))
    return { ok: false, field: first.field, message: first.message }
  }
  const decode = ((payload: unknown) => {
    if (Buffer.isBuffer(payload) || typeof payload === 'string') {
      const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload
      if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
        return { ok: false, field: '(payload)', message: `payload is larger than ${MAX_PAYLOAD_BYTES} bytes` }
      }
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        return { ok: false, field: '(payload)', message: 'payload is not valid JSON' }
      }
      return check(parsed)
    }
    return check(payload)
  }) as Decoder<S>
  decode.check = check
  return decode
}

interface SchemaError {
  instancePath: string
  keyword: string
  message: string
  params?: unknown
}

/** Picks the most useful error and phrases it as `field: problem`. */
function firstError(errors: Iterable<SchemaError>): { field: string; message: string } {
  const list = [...errors]
  // anyOf reports every branch and then itself; the anyOf line is the clearest for unions.
  const chosen = list.find((e) => e.keyword === 'anyOf') ?? list[0]
  if (!chosen) return { field: '(payload)', message: 'payload is invalid' }
  let field = pathToField(chosen.instancePath)
  if (chosen.keyword === 'required') {
    const missing = (chosen.params as { requiredProperties?: string[] } | undefined)?.requiredProperties ?? []
    const name = [field, missing[0] ?? '?'].filter((p) => p && p !== '(payload)').join('.')
    return { field: name, message: `${name}: is required` }
  }
  if (field === '') field = '(payload)'
  const detail = chosen.keyword === 'anyOf' ? 'has the wrong type or value' : chosen.message
  return { field, message: `${field}: ${detail}` }
}

/** "/machine_id/1" -> "machine_id[1]" */
function pathToField(path: string): string {
  return path
    .split('/')
    .filter(Boolean)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('')
}

export interface ReplyTo {
  origin_node?: string | undefined
  exchange_id?: number | undefined
  request_id?: number | undefined
}

/**
 * The one reply helper: echoes `exchange_id` / `request_id`, addresses the origin,
 * and picks the reply topic from the origin (`fallbackOrigin` when the message had none,
 * e.g. the authenticated client's node name).
 */
export function replyFor<T extends object>(
  request: ReplyTo,
  body: T,
  from: string,
  fallbackOrigin: string,
  timestampS: number,
): { topic: string; payload: T & { origin_node: string; destination_node: string; timestamp: number } } {
  const to = request.origin_node ?? fallbackOrigin
  const payload: Record<string, unknown> = { ...(body as Record<string, unknown>) }
  if (request.exchange_id !== undefined) payload.exchange_id = request.exchange_id
  if (request.request_id !== undefined) payload.request_id = request.request_id
  payload.timestamp = timestampS
  payload.origin_node = from
  payload.destination_node = to
  return { topic: replyTopic(to), payload: payload as T & { origin_node: string; destination_node: string; timestamp: number } }
}

/** A refusal Confirmation body. */
export function refusal(message: string, extra: Partial<Confirmation> = {}): Confirmation {
  return { ...extra, success: false, message }
}
