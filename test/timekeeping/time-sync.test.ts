import t from 'tap'
import { createSystemTimeSync, parseChronyTracking, parseTimedatectl, runCommand, TIMESYNC_FLAG, type CommandRunner } from '../../src/timekeeping/time-sync.js'
import { writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'

const CHRONY_SYNCED = `Reference ID    : C0A80001 (192.168.0.1)
Stratum         : 3
Ref time (UTC)  : Tue Dec 01 07:00:00 2026
System time     : 0.000012345 seconds fast of NTP time
Leap status     : Normal
`
const CHRONY_UNSYNCED = `Reference ID    : 00000000 ()
Stratum         : 0
Ref time (UTC)  : Thu Jan 01 00:00:00 1970
System time     : 0.000000000 seconds slow of NTP time
Leap status     : Not synchronised
`

/** A fake command runner: only the commands listed answer; the others are "not installed". */
function runner(outputs: Record<string, string>): CommandRunner & { calls: string[] } {
  const calls: string[] = []
  const run = async (file: string, args: string[]) => {
    calls.push(`${file} ${args.join(' ')}`)
    return Object.hasOwn(outputs, file) ? outputs[file] : undefined
  }
  return Object.assign(run, { calls })
}

t.test('chrony: leap status Normal is synchronised, Not synchronised is not', async (t) => {
  t.match(parseChronyTracking(CHRONY_SYNCED), { synchronised: true, service: 'chrony', detail: /Normal.*0\.000012345 seconds fast/ })
  t.match(parseChronyTracking(CHRONY_UNSYNCED), { synchronised: false, service: 'chrony' })
  t.equal(parseChronyTracking('506 Cannot talk to daemon\n'), undefined, 'a daemon that does not answer tells nothing')
})

t.test('timedatectl: NTPSynchronized yes / no; anything else tells nothing', async (t) => {
  t.match(parseTimedatectl('yes\n'), { synchronised: true, service: 'timesyncd' })
  t.match(parseTimedatectl('no\n'), { synchronised: false, service: 'timesyncd' })
  t.equal(parseTimedatectl(''), undefined)
})

t.test('the first service that answers wins: chrony, then timedatectl, then the timesyncd flag file', async (t) => {
  const none = () => false
  t.match(await createSystemTimeSync({ run: runner({ chronyc: CHRONY_UNSYNCED, timedatectl: 'yes' }), exists: none }).read(), { synchronised: false, service: 'chrony' })
  const noChrony = runner({ timedatectl: 'no\n' })
  t.match(await createSystemTimeSync({ run: noChrony, exists: none }).read(), { synchronised: false, service: 'timesyncd' })
  t.same(noChrony.calls, ['chronyc -n tracking', 'timedatectl show -p NTPSynchronized --value'])
  const flag = (path: string) => path === TIMESYNC_FLAG || path === '/run/systemd/timesync'
  t.match(await createSystemTimeSync({ run: runner({}), exists: flag }).read(), { synchronised: true, detail: /synchronized exists/ })
  t.match(await createSystemTimeSync({ run: runner({}), exists: (p) => p === '/run/systemd/timesync' }).read(), { synchronised: false, service: 'timesyncd' })
  t.match(await createSystemTimeSync({ run: runner({}), exists: none }).read(), { synchronised: null, service: null, detail: /no time-sync service/ })
})

t.test('the real runner: a missing command or a failing one is undefined, never a throw', async (t) => {
  t.equal(await runCommand('/nonexistent/chronyc', ['tracking']), undefined)
  t.equal(await runCommand(process.execPath, ['-e', 'process.exit(3)']), undefined)
  t.equal(await runCommand(process.execPath, ['-e', 'process.stdout.write("yes")']), 'yes')
})

t.test('the real runner finds commands on PATH, and does not fork for one that is not installed', async (t) => {
  const dir = t.testdir()
  const script = join(dir, 'fake-chronyc')
  writeFileSync(script, `#!/bin/sh\necho "Leap status     : Normal"\n`, { mode: 0o755 })
  writeFileSync(join(dir, 'not-executable'), '#!/bin/sh\necho no\n', { mode: 0o644 })
  const path = process.env.PATH
  t.teardown(() => void (process.env.PATH = path))
  process.env.PATH = `${join(dir, 'missing')}${delimiter}${dir}${delimiter}${path ?? ''}`
  t.match(await runCommand('fake-chronyc', ['-n', 'tracking']), /Leap status\s+: Normal/, 'found in a PATH directory')
  const spawned: string[] = []
  const real = await import('node:child_process')
  const { runCommand: counted } = await t.mockImport<typeof import('../../src/timekeeping/time-sync.js')>('../../src/timekeeping/time-sync.js', {
    'node:child_process': { ...real, execFile: (file: string, ...rest: unknown[]) => (spawned.push(file), (real.execFile as (...a: unknown[]) => unknown)(file, ...rest)) },
  })
  t.equal(await counted('no-such-command-for-the-hub', []), undefined, 'not on PATH: undefined')
  t.equal(await counted('not-executable', []), undefined, 'not executable: undefined')
  t.equal(await counted('/nonexistent/chronyc', ['tracking']), undefined, 'a missing path: undefined')
  t.same(spawned, [], 'none of them forked')
  t.equal(await counted('fake-chronyc', []), 'Leap status     : Normal\n')
  t.same(spawned, ['fake-chronyc'], 'an installed one runs')
})
