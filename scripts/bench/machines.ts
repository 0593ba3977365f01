/**
 * Machines benchmark (issue: hub core). The whole hub in-process with N simulated dispensers
 * over loopback MQTT:
 *   - time until all N have their CONNACK, and until the hub counts all N online;
 *   - process RSS and heap (hub + simulator share the process; a 0-dispenser run is the baseline);
 *   - a burst of N simultaneous admin overrides: confirmation latency p50/p99/max, commands/s.
 * Reference run: 100 dispensers, in the same invocation; the table shows the ratios.
 *
 *   npm run bench -- machines [count=1000] [reference=100]
 */
import { execSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { createCredentialStore } from '../../src/broker/index.js'
import { loadConfig } from '../../src/config/index.js'
import { createHub } from '../../src/hub.js'
import { createSimulator } from '../../src/simulator/index.js'
import { mib, percentile, printComparison } from './lib/stats.js'

interface Figures {
  connectMs: number
  onlineMs: number
  rssMiB: number
  heapMiB: number
  rssPerDispenserKiB: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  confirmedPerS: number
  confirmed: number
  failed: number
}

async function settle(): Promise<{ rss: number; heap: number }> {
  global.gc?.()
  await new Promise((r) => setTimeout(r, 500))
  const m = process.memoryUsage()
  return { rss: m.rss, heap: m.heapUsed }
}

async function run(count: number): Promise<Figures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-machines-'))
  const config = loadConfig({ HUB_DATA_DIR: dataDir, HUB_MACHINES: `1-${count}`, HUB_MQTT_PORT: '0', HUB_HTTP_PORT: '0', HUB_TIMEZONE: 'UTC', HUB_LOG_LEVEL: 'silent' })
  const credentials = createCredentialStore({ dataDir })
  const hub = await createHub({ config, log: pino({ level: 'silent' }), credentials })
  const before = await settle()
  const sim = createSimulator({
    url: `mqtt://127.0.0.1:${hub.ports.mqtt}`,
    ids: config.machineIds,
    credentials: (id) => ({ username: `machine_${id}`, password: credentials.issueEphemeralMachineSecret(id) }),
  })
  const t0 = performance.now()
  await sim.start()
  const connectMs = performance.now() - t0
  while (hub.machines.stats().online < count) await new Promise((r) => setTimeout(r, 5))
  const onlineMs = performance.now() - t0
  // Let the connect-time reconcile and first reports finish before the burst.
  await new Promise((r) => setTimeout(r, 3000))
  const after = await settle()

  const sentAt = new Map<number, number>()
  const latencies: number[] = []
  let failed = 0
  const done = new Promise<void>((resolve) => {
    const check = () => latencies.length + failed >= count && resolve()
    hub.events.on('command.confirmed', 'bench', ({ command }) => {
      const at = sentAt.get(command.machine_id)
      if (at !== undefined && command.status === 'active') {
        latencies.push(performance.now() - at)
        sentAt.delete(command.machine_id)
        check()
      }
    })
    hub.events.on('command.failed', 'bench', () => {
      failed++
      check()
    })
  })
  const until = Date.now() / 1000 + 3600
  const burst0 = performance.now()
  await Promise.all(
    config.machineIds.map((id) => {
      sentAt.set(id, performance.now())
      return hub.machines.override({ machine_id: id, status: 'active', scheduled_until: until }, { source: 'admin', node: 'admin_portal' })
    }),
  )
  await done
  const burstS = (performance.now() - burst0) / 1000
  latencies.sort((a, b) => a - b)
  await sim.stop()
  await hub.close()
  rmSync(dataDir, { recursive: true, force: true })
  return {
    connectMs: Math.round(connectMs),
    onlineMs: Math.round(onlineMs),
    rssMiB: mib(after.rss),
    heapMiB: mib(after.heap),
    rssPerDispenserKiB: Math.round((after.rss - before.rss) / count / 1024),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? NaN,
    confirmedPerS: Math.round(latencies.length / burstS),
    confirmed: latencies.length,
    failed,
  }
}

const [countArg, refArg] = process.argv.slice(2)
const count = Number(countArg ?? 1000)
const reference = Number(refArg ?? 100)
// Both ends of every connection live in this process: 2 file descriptors per dispenser.
const fdLimit = execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim()
console.log(`machines benchmark: ${count} dispensers vs a ${reference}-dispenser reference; node ${process.version}; open-file limit ${fdLimit}`)
const ref = await run(reference)
const big = await run(count)
printComparison(`hub + ${count} simulated dispensers in one process (loopback MQTT, real LevelDB)`, [`${reference}`, `${count}`], [
  ['time to connect all (ms)', ref.connectMs, big.connectMs],
  ['time until the hub sees all online (ms)', ref.onlineMs, big.onlineMs],
  ['process RSS after connect (MiB)', ref.rssMiB, big.rssMiB],
  ['JS heap used after connect (MiB)', ref.heapMiB, big.heapMiB],
  ['RSS added per dispenser (KiB, hub+sim)', ref.rssPerDispenserKiB, big.rssPerDispenserKiB],
  ['burst: confirmation latency p50 (ms)', ref.p50Ms, big.p50Ms],
  ['burst: confirmation latency p99 (ms)', ref.p99Ms, big.p99Ms],
  ['burst: confirmation latency max (ms)', ref.maxMs, big.maxMs],
  ['burst: commands confirmed per second', ref.confirmedPerS, big.confirmedPerS],
  ['burst: confirmed / failed', ref.confirmed, big.confirmed],
])
if (big.failed + ref.failed > 0) console.log(`failed commands: ${ref.failed} (reference), ${big.failed}`)
process.exit(0)
