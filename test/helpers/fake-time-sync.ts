import type { TimeSyncPort, TimeSyncState } from '../../src/timekeeping/index.js'

/** The time-sync service as a test sets it: not synchronised until `sync()` (issue 15). */
export class FakeTimeSync implements TimeSyncPort {
  state: TimeSyncState = { synchronised: false, service: 'timesyncd', detail: 'fake: not synchronised' }
  async read(): Promise<TimeSyncState> {
    return this.state
  }
  sync(): void {
    this.state = { synchronised: true, service: 'timesyncd', detail: 'fake: synchronised' }
  }
}
