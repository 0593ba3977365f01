/**
 * Idempotency keys (issue 10): a create retried after a lost reply must not book twice, and the
 * client must not have to choose the session id to get that. HTTP sends `Idempotency-Key`, MQTT
 * the (origin, exchange_id) pair. The hub remembers each key's request and answer for 24 hours:
 * the same key with the same request gets the same answer again (nothing written, no event);
 * the same key with another request is refused naming the key. Only accepted submissions are
 * remembered; a refusal changed nothing, so repeating it simply asks again.
 *
 * Keys are scoped by the authenticated node (one kiosk cannot replay or block another's keys)
 * and written in the same synced batch as the session they answered (store.ts), so after a
 * crash a retry finds both or neither.
 */
import type { Session, SessionRecord } from '../protocol/messages.js'
import { fingerprint } from './submission.js'

export const KEY_RETENTION_S = 24 * 3600
/** Longest accepted key: an opaque client token (UUIDs are 36). */
export const MAX_KEY_LENGTH = 128

/** What the client sent as its key, and how to name it in a refusal (`Idempotency-Key`, `exchange_id`). */
export interface IdempotencyKey {
  key: string
  field: string
}

export interface RememberedKey {
  /** scope (node) and key, as one string */
  id: string
  /** the request it answered (requestFingerprint) */
  fingerprint: string
  /** when it was first answered, epoch s (hub clock) */
  at: number
  /** the first answer created the session (HTTP 201 again on a repeat) */
  created: boolean
  /** the session as first answered */
  record: SessionRecord
}

export const keyId = (scope: string, key: string): string => JSON.stringify([scope, key])

/** The request a key stands for: the session id it names (if any) and its content (not the envelope). */
export function requestFingerprint(session: Session, externalId?: string): string {
  return JSON.stringify([session.session_id ?? null, fingerprint(session, externalId)])
}

/** A key is printable ASCII without spaces, 1..128 characters; undefined when it is fine. */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) return `must be 1 to ${MAX_KEY_LENGTH} characters`
  if (!/^[\x21-\x7e]+$/.test(key)) return 'must be printable ASCII without spaces'
  return undefined
}

export interface KeyMemory {
  /** the remembered answer, unless older than the retention */
  get(id: string, nowS: number): RememberedKey | undefined
  put(entry: RememberedKey): void
  /** ids past their retention, oldest first (at most `limit`) */
  expired(nowS: number, limit: number): string[]
  forget(ids: readonly string[]): void
  size(): number
}

export function createKeyMemory(): KeyMemory {
  // Insertion order is answer order (entries are put once, in clock order), so expiry scans the front only.
  const byId = new Map<string, RememberedKey>()
  return {
    get(id, nowS) {
      const entry = byId.get(id)
      return entry && entry.at > nowS - KEY_RETENTION_S ? entry : undefined
    },
    put(entry) {
      byId.delete(entry.id)
      byId.set(entry.id, entry)
    },
    expired(nowS, limit) {
      const out: string[] = []
      for (const entry of byId.values()) {
        if (entry.at > nowS - KEY_RETENTION_S || out.length >= limit) break
        out.push(entry.id)
      }
      return out
    },
    forget(ids) {
      for (const id of ids) byId.delete(id)
    },
    size: () => byId.size,
  }
}
