/**
 * The dispenser firmware's host checks (esp32/Makefile `check`): the core's unit tests, the
 * Arduino glue compiled against the stand-in headers, the virtual dispenser build, and a short
 * fuzz run of the protocol decode + Dispenser::onMessage under ASan/UBSan with the safety
 * invariants (100,000 inputs here; .ci/run adds a run of 1,000,000). Built into a fresh temp
 * directory so parallel runs never share object files.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { NodeNames, Topics } from '../../src/protocol/topics.js'
import { ENROLL_USERNAME, enrollClientId } from '../../src/protocol/fleet.js'
import { buildDir, esp32Dir as esp32, make, firmwareSkipReason } from './virtual.js'

const skip = firmwareSkipReason()
if (skip) t.comment(skip)

// Five g++ builds (two under ASan/UBSan) on a shared 2-core machine can take minutes.
t.setTimeout(360_000)

t.test('make check: core unit tests pass, glue and virtual dispenser compile, the fuzz run holds', { skip: skip ?? false }, async (t) => {
  const build = await buildDir(t)
  const result = await make(['-j2', '--output-sync=target', 'check', `BUILD=${build}`])
  t.equal(result.code, 0, 'make check exits 0')
  if (result.code !== 0) t.comment(`${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`)
  const summary = /^# tests (\d+) passed (\d+) failed (\d+)$/m.exec(result.stdout)
  t.ok(summary, 'the runner printed its summary')
  const [total, passed, failed] = (summary ?? []).slice(1).map(Number)
  t.ok(total !== undefined && total >= 40, `at least 40 host tests ran (got ${total})`)
  t.equal(failed, 0, 'no host test failed')
  t.equal(passed, total, 'every host test passed')
  const notOk = result.stdout.split('\n').filter((line) => line.startsWith('not ok'))
  t.same(notOk, [], 'no "not ok" lines')
  // The glue's boot test (relay level before direction, watchdog, deadline task, Wi-Fi), per polarity.
  for (const polarity of [1, 0]) {
    const boot = new RegExp(`^# glue boot \\(RELAY_ACTIVE_HIGH=${polarity}\\): (\\d+) checks, (\\d+) failed$`, 'm').exec(result.stdout)
    t.ok(boot && Number(boot[1]) >= 15 && boot[2] === '0', `glue boot test, RELAY_ACTIVE_HIGH=${polarity}: ${boot?.[0] ?? 'no summary'}`)
  }
  // "# fuzz 100000 inputs seed 1 in 1234 ms: ..., invariants held"
  const fuzz = /^# fuzz (\d+) inputs seed (\d+) in (\d+) ms: .*invariants held$/m.exec(result.stdout)
  t.ok(fuzz, 'the fuzz run printed its summary')
  t.ok(Number(fuzz?.[1]) >= 100_000, `at least 100,000 fuzz inputs (got ${fuzz?.[1]})`)
  if (fuzz) t.comment(fuzz[0])
})

t.test('the firmware spells topics and node names as src/protocol/topics.ts does', async (t) => {
  const header = await readFile(join(esp32, 'lib', 'dispenser_core', 'src', 'protocol.h'), 'utf8')
  const constant = (name: string) => new RegExp(`${name} = "([^"]*)"`).exec(header)?.[1]
  t.equal(constant('kTopicHandler'), Topics.machineHandler)
  t.equal(constant('kTopicMachinePrefix'), Topics.machinePrefix)
  t.equal(constant('kNodeMachineHandler'), NodeNames.machineHandler)
  // issue 16: the enrollment login and topic
  const enroll = await readFile(join(esp32, 'lib', 'dispenser_core', 'src', 'enrollment.h'), 'utf8')
  const enrollConstant = (name: string) => new RegExp(`${name} = "([^"]*)"`).exec(enroll)?.[1]
  t.equal(enrollConstant('kTopicEnrollPrefix'), Topics.enrollPrefix)
  t.equal(enrollConstant('kEnrollUsername'), ENROLL_USERNAME)
  t.equal(`${enrollConstant('kEnrollClientPrefix')}a4cf12b3c4d5`, enrollClientId('a4cf12b3c4d5'))
})
