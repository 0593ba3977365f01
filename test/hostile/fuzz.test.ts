/**
 * The hostile-input fuzzer (scripts/fuzz) in CI: against the real hub process, >= 10,000 malformed
 * and hostile MQTT packets and payloads from machine, kiosk, reservation, admin and anonymous
 * identities and >= 1,000 hostile HTTP and WebSocket requests, with 8 well-behaved dispensers
 * connected throughout. Afterwards: the process is alive, /api/health is ok, sessions and machines
 * are as before, no dispenser was dropped, nothing answered 5xx, RSS grew < 20 MiB (the full list of
 * checks is in scripts/fuzz/campaign.ts). The seed is fixed so CI is repeatable; FUZZ_SEED runs
 * another, and every failure names the command that replays it.
 */
import t from 'tap'
import { runFuzz } from '../../scripts/fuzz/campaign.js'

// two rounds of the campaign: ~45 s on a quiet 2-core machine, over 2 min on a shared one
t.setTimeout(300_000)

const seed = Number(process.env.FUZZ_SEED ?? 20_261_201)

t.test(`hostile input changes nothing and stops nothing (seed ${seed})`, async (t) => {
  const report = await runFuzz({ seed, count: 10_100, web: 1_250, dataDir: t.testdir(), progress: (line) => t.comment(line) })
  t.comment(`run time ${(report.durationMs / 1000).toFixed(1)} s, hub RSS ${report.rssBeforeMiB} -> ${report.rssAfterMiB} MiB, slowest PINGRESP ${report.maxPingMs} ms`)
  t.ok(report.mqttSent >= 10_000, `${report.mqttSent} hostile MQTT packets and payloads sent`)
  t.ok(report.webSent >= 1_000, `${report.webSent} hostile HTTP and WebSocket requests sent`)
  t.same(report.failures, [], `no check failed; replay with: ${report.replay}`)
  t.ok(report.rssGrowthMiB < 20, `hub RSS grew ${report.rssGrowthMiB} MiB`)
})
