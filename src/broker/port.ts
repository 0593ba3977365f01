/**
 * What the rest of the hub sees of the broker. Aedes stays inside src/broker;
 * modules and adapters only use this port (STYLE §2.1), so they can be tested
 * with an in-memory fake as well as the real broker.
 */
import type { ClientIdentity } from '../protocol/identity.js'

// Defined once in protocol/identity.ts; re-exported because every BrokerPort user needs them.
export type { ClientIdentity, Role } from '../protocol/identity.js'

/** Why a client went away; the connection tracker reports it (DESIGN §4: from the broker's own events). */
export type DisconnectReason = 'clean' | 'dropped' | 'keepalive' | 'takeover' | 'error' | 'shutdown'

export interface InboundMessage {
  topic: string
  payload: Buffer
  /** the authenticated sender, null when published in-process by the hub itself */
  client: ClientIdentity | null
}

export interface PublishOptions {
  qos?: 0 | 1
  retain?: boolean
}

/**
 * A payload already serialised to JSON (issue 17: a cached schedule reply is sent as its bytes,
 * not stringified again per request). A port that only knows objects still works: JSON.stringify
 * of it gives the same JSON through toJSON.
 */
export class JsonBytes {
  constructor(readonly bytes: Buffer) {}
  toJSON(): unknown {
    return JSON.parse(this.bytes.toString('utf8'))
  }
}

export interface BrokerPort {
  /** Publish JSON to clients (a JsonBytes as it is). Resolves once the broker accepted it (not when a client acked). */
  publish(topic: string, payload: object, options?: PublishOptions): Promise<void>
  /** Messages published by clients on topics matching `filter` (MQTT wildcards allowed). Returns unsubscribe. */
  onMessage(filter: string, handler: (message: InboundMessage) => void): () => void
  onClientUp(handler: (client: ClientIdentity) => void): () => void
  onClientDown(handler: (client: ClientIdentity, reason: DisconnectReason) => void): () => void
  /**
   * Every message on topics matching `filter`, published by clients or by the hub itself
   * (client null): what a bridge forwards. Optional: in-memory test brokers may lack it.
   */
  onPublish?(filter: string, handler: (message: InboundMessage) => void): () => void
  /** Clients connected now. */
  connectedClients(): ClientIdentity[]
}
