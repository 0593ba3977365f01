/**
 * An in-memory BrokerPort (STYLE §2.5): records what the hub publishes and lets a test play
 * the clients — connect / disconnect with a reason, and publish inbound messages as them.
 */
import type { BrokerPort, ClientIdentity, DisconnectReason, InboundMessage, PublishOptions } from '../../src/broker/port.js'
import { topicMatches } from '../../src/broker/topic-filter.js'

export interface Published {
  topic: string
  payload: Record<string, unknown>
  options: PublishOptions
}


export class FakeBroker implements BrokerPort {
  readonly published: Published[] = []
  private readonly handlers: Array<{ filter: string; fn: (m: InboundMessage) => void }> = []
  private readonly ups: Array<(c: ClientIdentity) => void> = []
  private readonly downs: Array<(c: ClientIdentity, r: DisconnectReason) => void> = []
  private readonly connected = new Map<string, ClientIdentity>()
  /** set to make publish fail (broker closing) */
  failPublish = false

  async publish(topic: string, payload: object, options: PublishOptions = {}): Promise<void> {
    if (this.failPublish) throw new Error('broker closed')
    this.published.push({ topic, payload: JSON.parse(JSON.stringify(payload)), options })
  }

  onMessage(filter: string, fn: (m: InboundMessage) => void): () => void {
    const entry = { filter, fn }
    this.handlers.push(entry)
    return () => void this.handlers.splice(this.handlers.indexOf(entry) >>> 0, 1)
  }

  onClientUp(fn: (c: ClientIdentity) => void): () => void {
    this.ups.push(fn)
    return () => void this.ups.splice(this.ups.indexOf(fn) >>> 0, 1)
  }

  onClientDown(fn: (c: ClientIdentity, r: DisconnectReason) => void): () => void {
    this.downs.push(fn)
    return () => void this.downs.splice(this.downs.indexOf(fn) >>> 0, 1)
  }

  connectedClients(): ClientIdentity[] {
    return [...this.connected.values()]
  }

  // ------------------------------------------------------------------ test controls

  static machine(id: number, keepalive = 10): ClientIdentity {
    return { kind: 'machine', clientId: `machine_${String(id).padStart(3, '0')}`, machineId: id, keepalive }
  }

  static node(node: string, role: 'admin' | 'kiosk' | 'reservation'): ClientIdentity {
    return { kind: 'node', clientId: node, node, role }
  }

  connect(client: ClientIdentity): void {
    this.connected.set(client.clientId, client)
    for (const fn of [...this.ups]) fn(client)
  }

  disconnect(client: ClientIdentity, reason: DisconnectReason = 'clean'): void {
    this.connected.delete(client.clientId)
    for (const fn of [...this.downs]) fn(client, reason)
  }

  /** Publish as `client` (null = in-process). Objects are sent as JSON, strings/Buffers as they are. */
  inject(topic: string, payload: object | string | Buffer, client: ClientIdentity | null): void {
    const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload))
    for (const h of [...this.handlers]) if (topicMatches(h.filter, topic)) h.fn({ topic, payload: bytes, client })
  }

  to(topic: string): Published[] {
    return this.published.filter((p) => p.topic === topic)
  }

  clear(): void {
    this.published.length = 0
  }
}
