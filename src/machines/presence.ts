/**
 * PURE online/offline transitions. DESIGN §4: presence comes from the broker's own
 * connection events (connect, disconnect, keep-alive expiry), never from a will message.
 * A machine may briefly have two connections (a reconnect racing the old socket's close),
 * so presence tracks the set of live client ids: the machine is online while any is up.
 */
import type { DisconnectReason } from '../broker/port.js'

export interface Presence {
  online: boolean
  clients: readonly string[]
  /** epoch seconds of the last sign of life (connect, message, disconnect) */
  last_seen: number | null
  offline_reason: string | null
}

export type PresenceChange = 'online' | 'offline' | null

export const initialPresence = (lastSeen: number | null, reason: string | null): Presence => ({
  online: false,
  clients: [],
  last_seen: lastSeen,
  offline_reason: reason,
})

export function clientUp(p: Presence, clientId: string, nowS: number): { presence: Presence; change: PresenceChange } {
  const clients = p.clients.includes(clientId) ? p.clients : [...p.clients, clientId]
  return { presence: { online: true, clients, last_seen: nowS, offline_reason: null }, change: p.online ? null : 'online' }
}

/**
 * A takeover closes an old connection because the same client id connected again: the
 * new one is already (or about to be) up, so it is not an offline transition.
 */
export function clientDown(
  p: Presence,
  clientId: string,
  reason: DisconnectReason,
  nowS: number,
): { presence: Presence; change: PresenceChange } {
  if (reason === 'takeover') return { presence: p, change: null }
  const clients = p.clients.filter((c) => c !== clientId)
  if (clients.length > 0 || !p.online) return { presence: { ...p, clients }, change: null }
  return {
    presence: { online: false, clients, last_seen: nowS, offline_reason: describeReason(reason) },
    change: 'offline',
  }
}

/** Marks a sign of life (any message) without changing online state. */
export function touch(p: Presence, nowS: number): Presence {
  return { ...p, last_seen: nowS }
}

export function describeReason(reason: DisconnectReason): string {
  switch (reason) {
    case 'clean':
      return 'disconnected'
    case 'dropped':
      return 'connection lost'
    case 'keepalive':
      return 'keep-alive expired'
    case 'takeover':
      return 'replaced by a new connection'
    case 'error':
      return 'connection error'
    case 'shutdown':
      return 'hub stopped'
  }
}
