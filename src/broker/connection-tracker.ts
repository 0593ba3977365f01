/**
 * The connection tracker: who is connected, from Aedes's own events (DESIGN §4: presence comes from the broker, not from
 * last wills). Every 'client' (up) gets exactly one 'clientDisconnect' (down) with a reason:
 *
 * - clean      the client sent DISCONNECT
 * - keepalive  no packet for 1.5 x its keep-alive (Aedes's timer, [MQTT-3.1.2-24])
 * - takeover   the same client id connected again ([MQTT-3.1.4-2]: Aedes closes the old one first)
 * - shutdown   the broker is closing
 * - dropped    the socket closed or failed (reset, timeout) without DISCONNECT
 * - error      the broker closed it for a protocol violation (bad packet, too many in flight)
 */
import type { Aedes, Client } from 'aedes'
import type { Logger } from 'pino'
import type { ClientIdentity, DisconnectReason } from './port.js'

export interface ConnectionTracker {
  /** call when authentication accepted `client` (before Aedes registers it) */
  authenticated(client: Client): void
  onUp(handler: (c: ClientIdentity) => void): () => void
  onDown(handler: (c: ClientIdentity, r: DisconnectReason) => void): () => void
  connected(): ClientIdentity[]
  /** who holds `clientId` now (connected, or authenticated and about to be), other than `except` */
  holderOf(clientId: string, except: Client): ClientIdentity | undefined
  /** from now on every down is 'shutdown' */
  closing(): void
}

// Errors a socket raises on its own (peer gone, network down): the connection was lost, nobody broke a rule.
const NETWORK_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN'])

export function trackConnections(aedes: Aedes, identityOf: (c: Client) => ClientIdentity | undefined, log: Logger): ConnectionTracker {
  const upHandlers = new Set<(c: ClientIdentity) => void>()
  const downHandlers = new Set<(c: ClientIdentity, r: DisconnectReason) => void>()
  const connected = new Map<Client, ClientIdentity>()
  // Authenticated, not yet registered: one of these with the id of a connected client is a takeover.
  const authenticating = new Set<Client>()
  const keepaliveExpired = new WeakSet<Client>()
  const errors = new WeakMap<Client, 'dropped' | 'error'>()
  let shuttingDown = false

  const safely = <A extends unknown[]>(fn: (...args: A) => void, ...args: A) => {
    try {
      fn(...args)
    } catch (error) {
      log.error({ err: error }, 'broker connection handler failed')
    }
  }

  /** Why `client` went, leaving takeover aside (that is decided by whether a successor registers). */
  const reasonFor = (client: Client): DisconnectReason => {
    if (shuttingDown) return 'shutdown'
    if (keepaliveExpired.has(client)) return 'keepalive'
    // Aedes sets _disconnected only when a DISCONNECT packet arrived ([MQTT-3.14.4-3])
    if ((client as Client & { _disconnected?: boolean })._disconnected) return 'clean'
    return errors.get(client) ?? 'dropped'
  }

  // Issue 15: after a freeze (SIGSTOP/CONT, a stalled Pi) the kernel hands over every CONNECT a
  // dispenser sent meanwhile, on sockets it has already closed. Aedes registers such a client
  // even when its socket closed during the connect steps, and then never reports it down.
  const dead = (client: Client) => client.closed || client.conn.destroyed

  // A down while a live client with the same id is authenticating is held until that one
  // registers (then it was a takeover, [MQTT-3.1.4-2]) or dies first (then it was not).
  const held = new Map<Client, Array<{ client: Client; identity: ClientIdentity }>>()
  const emitDown = (client: Client, identity: ClientIdentity, reason: DisconnectReason) => {
    if (log.isLevelEnabled('debug')) log.debug({ clientId: client.id, reason }, 'client disconnected')
    for (const handler of downHandlers) safely(handler, identity, reason)
  }
  const release = (successor: Client, tookOver: boolean) => {
    const downs = held.get(successor)
    if (!downs) return
    held.delete(successor)
    for (const d of downs) emitDown(d.client, d.identity, tookOver ? 'takeover' : reasonFor(d.client))
  }

  aedes.on('client', (client) => {
    authenticating.delete(client)
    if (dead(client)) {
      // Gone before it was registered: it never was up, and whoever it "replaced" was not taken over.
      log.debug({ clientId: client.id }, 'client closed while connecting; not counted as up')
      release(client, false)
      return
    }
    release(client, true)
    const identity = identityOf(client)
    if (!identity) return
    connected.set(client, identity)
    if (log.isLevelEnabled('debug')) log.debug({ clientId: client.id, kind: identity.kind }, 'client connected')
    for (const handler of upHandlers) safely(handler, identity)
  })
  aedes.on('keepaliveTimeout', (client) => keepaliveExpired.add(client))
  aedes.on('clientError', (client, error) => {
    authenticating.delete(client)
    const code = (error as NodeJS.ErrnoException).code
    errors.set(client, code && NETWORK_ERRORS.has(code) ? 'dropped' : 'error')
  })
  aedes.on('clientDisconnect', (client) => {
    authenticating.delete(client)
    const identity = connected.get(client)
    if (!identity) return
    connected.delete(client)
    const reason = reasonFor(client)
    const successor = reason === 'dropped' || reason === 'error' ? [...authenticating].find((p) => p.id === client.id && p !== client && !dead(p)) : undefined
    if (!successor) return emitDown(client, identity, reason)
    const downs = held.get(successor) ?? []
    downs.push({ client, identity })
    held.set(successor, downs)
  })

  return {
    authenticated(client) {
      authenticating.add(client)
      // a client that goes away between authentication and registration may get no Aedes event
      client.conn.once('close', () => {
        authenticating.delete(client)
        release(client, false)
      })
    },
    onUp(handler) {
      upHandlers.add(handler)
      return () => upHandlers.delete(handler)
    },
    onDown(handler) {
      downHandlers.add(handler)
      return () => downHandlers.delete(handler)
    },
    connected: () => [...connected.values()],
    holderOf(clientId, except) {
      // aedes.clients is a null-prototype object: an id like `constructor` finds nothing inherited
      const registered = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[clientId]
      if (registered && registered !== except) {
        const identity = connected.get(registered)
        if (identity) return identity
      }
      for (const pending of authenticating) {
        if (pending.id === clientId && pending !== except) return identityOf(pending)
      }
      return undefined
    },
    closing() {
      shuttingDown = true
    },
  }
}
