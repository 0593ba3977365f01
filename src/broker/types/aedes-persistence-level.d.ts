// aedes-persistence-level ships no types. We use only its promise API (DESIGN §7): the hub opens
// and closes the Level database itself, after broker.close().
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { Level } from 'level'
  export default class AsyncLevelPersistence {
    constructor(db: Level<string, Buffer>)
    setup(broker: unknown): Promise<void>
    destroy(): Promise<void>
    /** an empty payload deletes the retained message of `topic` */
    storeRetained(packet: { topic: string; payload: Buffer }): Promise<void>
    /** a PUBACK (or a stored packet being dropped): forgets the in-flight copy, answers it if there was one */
    outgoingClearMessageId(client: { id: string; clean: boolean }, packet: { cmd: string; messageId?: number }): Promise<unknown>
    /** the stored subscriptions (persistent sessions) whose filter matches `topic` */
    subscriptionsByTopic(topic: string): Promise<unknown[]>
  }
}
