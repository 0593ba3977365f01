/**
 * The one envelope helper (DESIGN §4): every message the hub sends to a node or a machine
 * carries `timestamp`, `origin_node`, `destination_node`, and a reply echoes the request's
 * `exchange_id` / `request_id`. Replies, refusals, the internal/admin feed and the dispenser
 * adapter all build their payloads here.
 */
import { replyTopic } from './topics.js'
import type { Confirmation } from './messages.js'

/** What a reply echoes from the message it answers. */
export interface ReplyTo {
  origin_node?: string | undefined
  exchange_id?: number | undefined
  request_id?: number | undefined
}

/** Where the answer to one inbound message goes (decodeInbound decides it from the login). */
export interface ReplyAddress {
  topic: string
  /** destination_node of the answer */
  to: string
  echo: ReplyTo
}

export type Enveloped<T> = T & { timestamp: number; origin_node: string; destination_node: string }

/** `body` with the envelope fields; `echo` adds exchange_id / request_id when the request had them. */
export function envelope<T extends object>(body: T, from: string, to: string, timestampS: number, echo: ReplyTo = {}): Enveloped<T> {
  const payload: Record<string, unknown> = { ...(body as Record<string, unknown>) }
  if (echo.exchange_id !== undefined) payload.exchange_id = echo.exchange_id
  if (echo.request_id !== undefined) payload.request_id = echo.request_id
  payload.timestamp = timestampS
  payload.origin_node = from
  payload.destination_node = to
  return payload as Enveloped<T>
}

/**
 * `envelope` for a body already serialised (a cached schedule reply, issue 17): the body's JSON
 * object with the envelope fields appended, without parsing or stringifying the body again.
 * `body` must be a JSON object without envelope fields.
 */
export function envelopeBytes(body: Buffer, from: string, to: string, timestampS: number, echo: ReplyTo = {}): Buffer {
  const fields = Buffer.from(JSON.stringify(envelope({}, from, to, timestampS, echo)))
  // `{...}` + `{"timestamp":...}` -> `{...,"timestamp":...}` (an empty body `{}` takes no comma)
  const open = body.subarray(0, body.length - 1)
  return Buffer.concat([open, Buffer.from(body.length > 2 ? ',' : ''), fields.subarray(1)])
}

/** The reply address of node `origin` (its DESIGN §4 reply topic). */
export function nodeAddress(origin: string, echo: ReplyTo = {}): ReplyAddress {
  return { topic: replyTopic(origin), to: origin, echo }
}

/** The answer to an inbound message: topic and enveloped payload. */
export function addressed<T extends object>(address: ReplyAddress, body: T, from: string, timestampS: number): { topic: string; payload: Enveloped<T> } {
  return { topic: address.topic, payload: envelope(body, from, address.to, timestampS, address.echo) }
}

/**
 * Reply to `request` from `from`: to its origin_node, or `fallbackOrigin` when it named none.
 * (Inbound adapters get their address from decodeInbound instead; this serves callers that
 * have only the request.)
 */
export function replyFor<T extends object>(
  request: ReplyTo,
  body: T,
  from: string,
  fallbackOrigin: string,
  timestampS: number,
): { topic: string; payload: Enveloped<T> } {
  return addressed(nodeAddress(request.origin_node ?? fallbackOrigin, request), body, from, timestampS)
}

/** A refusal Confirmation body. */
export function refusal(message: string, extra: Partial<Confirmation> = {}): Confirmation {
  return { ...extra, success: false, message }
}
