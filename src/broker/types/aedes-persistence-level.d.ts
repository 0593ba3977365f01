// aedes-persistence-level ships no types. We use only its promise API (DESIGN §7).
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { AbstractLevel } from 'abstract-level'
  export default class AsyncLevelPersistence {
    constructor(db: AbstractLevel<string | Buffer, string | Buffer, unknown>)
    setup(broker: unknown): Promise<void>
    destroy(): Promise<void>
  }
}
