/**
 * `npm run fuzz -- [--seed S] [--count N] [--web M] [--keep]`: the hostile-input fuzzer against the
 * real hub process. N hostile MQTT packets and payloads (default 10,000), M hostile HTTP and
 * WebSocket requests (default N / 8, at least 1,000). Without --seed a random seed is drawn and
 * printed; any failure prints the command that replays it. Exit code 1 when something failed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runFuzz } from './campaign.js'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

function whole(name: string, fallback: number): number {
  const text = arg(name)
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1) {
    console.error(`--${name}: "${text}" is not a whole number from 0 to ${2 ** 32 - 1}`)
    process.exit(2)
  }
  return n
}

const seed = whole('seed', Math.floor(Math.random() * 2 ** 31))
const count = whole('count', 10_000)
const webArg = arg('web')
const dataDir = mkdtempSync(join(tmpdir(), 'hub-fuzz-'))
console.log(`fuzz: seed ${seed}, data dir ${dataDir}`)
const report = await runFuzz({ seed, count, ...(webArg !== undefined && { web: whole('web', 1000) }), dataDir, progress: (line) => console.log(line) })
console.log(`\nsent: ${report.mqttSent} hostile MQTT packets/payloads, ${report.webSent} hostile HTTP/WebSocket requests ${JSON.stringify(report.sent)}`)
console.log(`HTTP statuses: ${JSON.stringify(report.httpStatuses)}`)
console.log(`run time ${(report.durationMs / 1000).toFixed(1)} s; hub RSS ${report.rssBeforeMiB} -> ${report.rssAfterMiB} MiB (growth ${report.rssGrowthMiB} MiB); slowest hub PINGRESP ${report.maxPingMs} ms; hub log lines ${report.hubLogLines}`)
if (process.argv.includes('--keep')) console.log(`data dir kept: ${dataDir}`)
else rmSync(dataDir, { recursive: true, force: true })
if (report.failures.length === 0) {
  console.log(`PASS: seed ${seed}, ${report.count} MQTT + ${report.web} HTTP/WebSocket cases`)
  process.exit(0)
}
console.log(`\nFAIL: ${report.failures.length} problem(s) with seed ${seed}:`)
for (const f of report.failures) console.log(`  - ${f}`)
console.log(`replay: ${report.replay}`)
process.exit(1)
