/**
 * Memory of the bays' report history (issue 17, per-machine state):
 *
 *   npm run bench -- report-history [bays=1000]
 *
 * Each bay keeps its last HISTORY_LIMIT (100) reports; a dispenser reports every 30 s, so after
 * ~50 minutes every bay's history is full. Reports are decoded by the hub's own inbound decoder
 * from firmware-shaped payloads (uptime and signal changing, the rest repeated), then held
 * (a) as the hub held them before issue 17, an array of `{ received_at, report }` objects per bay
 * (the reference, in this same invocation), and (b) in src/machines/report-history.ts. Printed:
 * memory held after a full GC (JS heap + typed arrays' buffers) for each, per bay, and the ratio.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { decodeInbound } from '../../src/protocol/inbound.js'
import { Topics } from '../../src/protocol/topics.js'
import type { MachineReport } from '../../src/protocol/messages.js'
import { HISTORY_LIMIT, ReportHistory } from '../../src/machines/report-history.js'
import type { ReportEntry } from '../../src/machines/types.js'
import { printComparison } from './lib/stats.js'

const BAYS = Number(process.argv[2] ?? 1000)
// a full GC before each reading (the flag turned on at run time: `npm run bench` passes none)
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function report(id: number, i: number): MachineReport {
  const node = `machine_${String(id).padStart(3, '0')}`
  const payload = Buffer.from(JSON.stringify({
    machine_id: id, status: i % 40 < 20 ? 'active' : 'idle', ball_level: 'full', session_id: null, scheduled_until: null, firmware: '1.4.2',
    ip_address: `192.168.4.${id % 250}`, rssi: -50 - (i % 20), uptime_s: i * 30, timestamp: 1_764_600_000 + i * 30.004, origin_node: node,
  }))
  const result = decodeInbound(Topics.machineHandler, payload, { kind: 'machine', clientId: node, machineId: id, keepalive: 10 })
  if (!result.ok || result.kind !== 'report') throw new Error(`bench report not accepted: ${result.ok ? result.kind : result.message}`)
  return result.value as MachineReport
}

function heapAfter(build: () => unknown): number {
  // heap and typed arrays' backing stores (outside the heap) both count
  const used = () => {
    const m = process.memoryUsage()
    return m.heapUsed + m.arrayBuffers
  }
  gc()
  const before = used()
  const kept = build()
  gc()
  const bytes = used() - before
  if (!kept) throw new Error('nothing kept')
  return bytes
}

// as before: a new array per report (pushHistory), each entry an object holding the decoded report
const arrays = heapAfter(() => {
  const bays: ReportEntry[][] = []
  for (let id = 1; id <= BAYS; id++) {
    let h: ReportEntry[] = []
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) {
      const next = h.length >= HISTORY_LIMIT ? h.slice(h.length - HISTORY_LIMIT + 1) : h.slice()
      next.push({ received_at: 1_764_600_000 + i * 30.001, report: report(id, i) })
      h = next
    }
    bays.push(h)
  }
  return bays
})
const rings = heapAfter(() => {
  const bays: ReportHistory[] = []
  for (let id = 1; id <= BAYS; id++) {
    const h = new ReportHistory()
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) h.push({ received_at: 1_764_600_000 + i * 30.001, report: report(id, i) })
    bays.push(h)
  }
  return bays
})
const mb = (b: number) => Math.round((b / 1048576) * 10) / 10
printComparison(`report history, ${BAYS} bays x ${HISTORY_LIMIT} reports (full after ~50 min at one report per 30 s)`, ['before', 'now'], [
  ['memory held, JS heap + array buffers (MB)', mb(arrays), mb(rings)],
  ['per bay (KB)', Math.round(arrays / BAYS / 102.4) / 10, Math.round(rings / BAYS / 102.4) / 10],
])
