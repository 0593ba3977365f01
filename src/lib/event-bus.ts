/**
 * One typed bus for facts that fan out (WS feed, internal/admin, metrics, reconcile triggers).
 * Commands that need an answer are plain calls, not events (STYLE §2.3).
 * Each listener is isolated: one that throws is logged and the others still run.
 */
export interface BusLogger {
  error(obj: object, msg: string): void
}

type Listener<T> = (payload: T) => void | Promise<void>

export class EventBus<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Array<{ owner: string; fn: Listener<never> }>>()

  constructor(private readonly log: BusLogger) {}

  on<K extends keyof Events>(event: K, owner: string, fn: Listener<Events[K]>): void {
    const list = this.listeners.get(event) ?? []
    list.push({ owner, fn: fn as Listener<never> })
    this.listeners.set(event, list)
  }

  /** Removes every listener registered by `owner` (call on module stop). */
  off(owner: string): void {
    for (const [event, list] of this.listeners) {
      this.listeners.set(event, list.filter((l) => l.owner !== owner))
    }
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const { owner, fn } of this.listeners.get(event) ?? []) {
      try {
        const out = (fn as Listener<Events[K]>)(payload)
        if (out instanceof Promise) {
          out.catch((error: unknown) => this.log.error({ err: error, event, owner }, 'event listener failed'))
        }
      } catch (error) {
        this.log.error({ err: error, event, owner }, 'event listener failed')
      }
    }
  }
}
