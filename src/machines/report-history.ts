/**
 * PURE: a bay's last reports (issue 17: per-machine state small). A dispenser reports every 30 s,
 * so within an hour of running each of 1,000 bays holds its full history; as one object per
 * report (and one per entry, each parse with its own copies of firmware, address and node name)
 * that was ~28 MB of heap (`npm run bench -- report-history`). Here a bay's history is one flat
 * ring of slots, one per field of MachineReport (the inbound decoder keeps only those), the
 * `received_at` times in a Float64Array, and a text equal to the previous report's shares its
 * copy; no array is copied per report.
 * `entries()` rebuilds the same entries, oldest first; a field the report lacked stays absent.
 */
import { MachineReport } from '../protocol/messages.js'
import type { ReportEntry } from './types.js'

export const HISTORY_LIMIT = 100

const FIELDS = Object.keys(MachineReport.properties) as Array<keyof MachineReport>
/** slots per entry: the report's fields in FIELDS order */
const WIDTH = FIELDS.length

export class ReportHistory {
  readonly #limit: number
  #slots: unknown[] = []
  /** received_at of each ring position: a float each, 8 bytes here instead of a boxed number */
  #receivedAt: Float64Array | null = null
  /** ring position of the oldest entry */
  #oldest = 0
  #count = 0

  constructor(limit = HISTORY_LIMIT) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`history limit must be a positive integer, got ${limit}`)
    this.#limit = limit
  }

  get length(): number {
    return this.#count
  }

  /** Appends, dropping the oldest entry once `limit` are held. */
  push({ received_at, report }: ReportEntry): void {
    const slots = this.#slots
    const position = (this.#oldest + this.#count) % this.#limit
    const at = position * WIDTH
    const prev = this.#count === 0 ? -1 : ((this.#oldest + this.#count - 1) % this.#limit) * WIDTH
    if (this.#count < this.#limit) this.#count++
    else this.#oldest = (this.#oldest + 1) % this.#limit
    ;(this.#receivedAt ??= new Float64Array(this.#limit))[position] = received_at
    for (let f = 0; f < WIDTH; f++) {
      const value: unknown = report[FIELDS[f]!]
      const before = prev < 0 ? undefined : slots[prev + f]
      // the same text as last time: keep one copy (firmware, address, node names, enums)
      slots[at + f] = typeof value === 'string' && value === before ? before : value
    }
    // full for the first time: an array grown by appending has spare capacity; keep an exact copy
    if (this.#count === this.#limit && this.#oldest === 0) this.#slots = slots.slice()
  }

  /** The entries, oldest first, as new objects (callers may keep or change them). */
  entries(): ReportEntry[] {
    const out: ReportEntry[] = []
    const slots = this.#slots
    for (let i = 0; i < this.#count; i++) {
      const position = (this.#oldest + i) % this.#limit
      const report: Record<string, unknown> = {}
      for (let f = 0; f < WIDTH; f++) {
        const value = slots[position * WIDTH + f]
        if (value !== undefined) report[FIELDS[f]!] = value
      }
      out.push({ received_at: this.#receivedAt![position]!, report: report as MachineReport })
    }
    return out
  }
}
