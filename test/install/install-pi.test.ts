// scripts/install-pi.sh under --root: what it writes, that a re-run changes nothing, and that the
// admin token is shown once. Nothing here touches the real /etc or systemd (--root, no systemctl).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0

function install(root: string, ...args: string[]) {
  return installWith(root, {}, ...args)
}

function installWith(root: string, env: Record<string, string>, ...args: string[]) {
  const r = spawnSync('bash', [join(repo, 'scripts/install-pi.sh'), '--root', root, ...args], { encoding: 'utf8', env: { ...process.env, SSH_CONNECTION: '', ...env } })
  return { code: r.status, out: r.stdout + r.stderr }
}

/**
 * A fake network under root, in the kernel's own files: interfaces in sys/class/net, the IPv4
 * route table in proc/net/route (the default route via `uplink`), and an `ip` stand-in whose
 * `ip -o addr show` gives each interface an address 10.0.<n>.5.
 */
function fakeNet(root: string, ifaces: string[], uplink?: string) {
  for (const name of ['lo', ...ifaces]) mkdirSync(join(root, 'sys/class/net', name), { recursive: true })
  mkdirSync(join(root, 'proc/net'), { recursive: true })
  const rows = ['Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT']
  if (uplink) rows.push(`${uplink}\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0`)
  for (const name of ifaces) rows.push(`${name}\t0000000A\t00000000\t0001\t0\t0\t100\t0000FFFF\t0\t0\t0`)
  writeFileSync(join(root, 'proc/net/route'), rows.join('\n') + '\n')
  const ip = join(root, 'fake-ip')
  const lines = ifaces.map((name, i) => `${i + 2}: ${name}    inet 10.0.${i}.5/24 brd 10.0.${i}.255 scope global ${name}`)
  writeFileSync(ip, `#!/bin/sh\ncat <<'EOF'\n1: lo    inet 127.0.0.1/8 scope host lo\n${lines.join('\n')}\nEOF\n`, { mode: 0o755 })
  return { IP_CMD: ip }
}

/** A systemctl stand-in that answers `is-active NetworkManager` with `state`. */
function fakeSystemctl(root: string, state: string) {
  const path = join(root, 'fake-systemctl')
  writeFileSync(path, `#!/bin/sh\n[ "$1 $2" = "is-active NetworkManager" ] && { echo ${state}; [ ${state} = active ]; exit; }\nexit 1\n`, { mode: 0o755 })
  return { SYSTEMCTL: path }
}

/** path -> mode, mtime and sha256 of every entry under root: a re-run must leave all of them alone */
function snapshot(root: string, dir = ''): Record<string, string> {
  const out: Record<string, string> = {}
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name)
    const full = join(root, rel)
    if (entry.isSymbolicLink()) out[rel] = `-> ${readlinkSync(full)}`
    else if (entry.isDirectory()) {
      out[`${rel}/`] = `${(statSync(full).mode & 0o777).toString(8)} ${statSync(full).mtimeMs}`
      Object.assign(out, snapshot(root, rel))
    } else {
      const st = statSync(full)
      out[rel] = `${(st.mode & 0o777).toString(8)} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`
    }
  }
  return out
}

const mode = (path: string) => statSync(path).mode & 0o777
const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8')

t.test('shellcheck passes on every script under scripts/', { skip: has('shellcheck') ? false : 'shellcheck is not installed (.ci/run installs it)' }, async (t) => {
  const found = spawnSync('find', ['scripts', '-name', '*.sh'], { cwd: repo, encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
  t.ok(found.length >= 4, `checks ${found.join(' ')}`)
  const r = spawnSync('shellcheck', ['-x', ...found], { encoding: 'utf8', cwd: repo })
  t.equal(r.status, 0, r.stdout + r.stderr)
})

t.test('install-pi.sh --root writes unit, config, dnsmasq and network files; a second run changes nothing', async (t) => {
  const root = t.testdir()
  const first = install(root)
  t.equal(first.code, 0, first.out)
  const shown = /Admin token \(shown once[^\n]*\n\s*(\S+)/.exec(first.out)
  t.ok(shown, 'the admin token is shown on the first run')
  const tokenFile = join(root, 'var/lib/dispenser-hub/admin-token')
  t.equal(readFileSync(tokenFile, 'utf8').trim(), shown?.[1], 'the token shown is the one stored')
  t.match(shown?.[1] ?? '', /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')
  t.equal(mode(tokenFile), 0o600)

  const unit = read(root, 'etc/systemd/system/dispenser-hub.service')
  for (const line of ['Type=simple', 'ExecStart=/usr/bin/node /opt/dispenser-hub/current/dist/main.js', 'EnvironmentFile=/etc/dispenser-hub/hub.env',
    'User=dispenser-hub', 'Restart=always', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes',
    'ReadWritePaths=/var/lib/dispenser-hub', 'CapabilityBoundingSet=\n', 'AmbientCapabilities=\n', 'ProtectKernelTunables=yes',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX', 'SystemCallFilter=@system-service', 'LimitNOFILE=8192', 'WantedBy=multi-user.target', 'StandardOutput=journal']) {
    t.ok(unit.includes(line), `unit has ${line.trim()}`)
  }
  t.equal(mode(join(root, 'etc/systemd/system/dispenser-hub.service')), 0o644)

  const env = read(root, 'etc/dispenser-hub/hub.env')
  for (const line of ['HUB_DATA_DIR=/var/lib/dispenser-hub', 'HUB_MQTT_HOST=192.168.4.1', 'HUB_HTTP_HOST=0.0.0.0', 'HUB_MQTT_ALLOW_ANONYMOUS=false']) {
    t.match(env, new RegExp(`^${line}$`, 'm'), `hub.env has ${line}`)
  }
  t.equal(mode(join(root, 'etc/dispenser-hub/hub.env')), 0o640)
  t.equal(mode(join(root, 'etc/dispenser-hub')), 0o750)
  t.equal(mode(join(root, 'var/lib/dispenser-hub')), 0o750)

  const nm = join(root, 'etc/NetworkManager/system-connections/dispenser-hub.nmconnection')
  t.match(readFileSync(nm, 'utf8'), /interface-name=eth0[\s\S]*method=manual\naddress1=192\.168\.4\.1\/24\nnever-default=true/)
  t.equal(mode(nm), 0o600, 'NetworkManager ignores keyfiles others can read')

  const dnsmasq = read(root, 'etc/dnsmasq.d/dispenser-hub.conf')
  for (const line of ['interface=eth0', 'bind-dynamic', 'port=0']) t.match(dnsmasq, new RegExp(`^${line}$`, 'm'), `dnsmasq has ${line}`)
  const range = /^dhcp-range=192\.168\.4\.(\d+),192\.168\.4\.(\d+),255\.255\.255\.0,(\d+h)$/m.exec(dnsmasq)
  t.ok(range && Number(range[2]) - Number(range[1]) + 1 >= 250, 'room for 250 dispensers, with a lease time')
  t.match(read(root, 'etc/sysctl.d/60-dispenser-hub.conf'), /^net\.ipv4\.ip_nonlocal_bind = 1$/m)
  t.match(read(root, 'etc/systemd/system/dnsmasq.service.d/dispenser-hub.conf'), /^Restart=on-failure$/m, 'dnsmasq keeps trying until the port is there')

  t.equal(readlinkSync(join(root, 'opt/dispenser-hub/current')), 'releases/0.1.0')
  t.ok(existsSync(join(root, 'opt/dispenser-hub/releases/0.1.0/src/main.ts')), 'the checkout is copied into the release')
  t.match(first.out, /skipped npm ci, build and prune under --root/, 'says which network steps it skipped')
  t.match(first.out, /skipped under --root: apt-get install dnsmasq, sysctl, nmcli/)

  const before = snapshot(root)
  const second = install(root)
  t.equal(second.code, 0, second.out)
  t.match(second.out, /done: nothing changed/)
  t.notMatch(second.out, /^\s+(wrote|created|linked|installed|chowned|disabled) /m, 'no change reported')
  t.match(second.out, /unchanged \/etc\/dispenser-hub\/hub\.env/)
  t.match(second.out, /unchanged: \/opt\/dispenser-hub\/current -> releases\/0\.1\.0 \(to install this checkout: scripts\/update\.sh\)/)
  t.match(second.out, /admin-token \(exists; not shown again\)/)
  t.notMatch(second.out, /Admin token \(shown once/, 'the token is not shown again')
  t.notMatch(second.out, shown?.[1] ?? 'no token', 'nor its value')
  t.same(snapshot(root), before, 'no file written, moved or re-moded')

  const dry = install(root, '--iface', 'eth1', '--dry-run')
  t.equal(dry.code, 0, dry.out)
  t.match(dry.out, /would write \/etc\/dnsmasq\.d\/dispenser-hub\.conf/)
  t.match(dry.out, /would write \/etc\/NetworkManager\/system-connections\/dispenser-hub\.nmconnection/)
  t.match(dry.out, /done: 3 change\(s\) \(dry run: none made\)/, 'keyfile, dnsmasq and the sysctl comment name the port')
  t.same(snapshot(root), before, '--dry-run changes nothing')
})

t.test('a re-run keeps the operator settings in hub.env and the token; options change only their keys', async (t) => {
  const root = t.testdir()
  t.equal(install(root).code, 0)
  const envPath = join(root, 'etc/dispenser-hub/hub.env')
  appendFileSync(envPath, 'HUB_MACHINES=1-80\n')
  writeFileSync(envPath, readFileSync(envPath, 'utf8').replace('HUB_MQTT_ALLOW_ANONYMOUS=false', 'HUB_MQTT_ALLOW_ANONYMOUS=true'))
  const token = readFileSync(join(root, 'var/lib/dispenser-hub/admin-token'), 'utf8')

  const r = install(root, '--http-host', '192.168.4.1')
  t.equal(r.code, 0, r.out)
  t.match(r.out, /done: 1 change\(s\)/, 'only hub.env changed')
  const env = readFileSync(envPath, 'utf8')
  t.match(env, /^HUB_MACHINES=1-80$/m, 'the operator line is kept')
  t.match(env, /^HUB_HTTP_HOST=192\.168\.4\.1$/m, '--http-host applied')
  t.match(env, /^HUB_MQTT_ALLOW_ANONYMOUS=false$/m, 'an open broker is closed again')
  t.equal(env.match(/^HUB_HTTP_HOST=/gm)?.length, 1, 'each key once')
  t.equal(readFileSync(join(root, 'var/lib/dispenser-hub/admin-token'), 'utf8'), token, 'the admin token is never regenerated')
})

t.test('install-pi.sh disables an enabled mosquitto under --root, and refuses bad options', async (t) => {
  const root = t.testdir()
  const wants = join(root, 'etc/systemd/system/multi-user.target.wants')
  mkdirSync(wants, { recursive: true })
  symlinkSync('/lib/systemd/system/mosquitto.service', join(wants, 'mosquitto.service'))
  const r = install(root)
  t.equal(r.code, 0, r.out)
  t.match(r.out, /disabled mosquitto/)
  t.notOk(existsSync(join(wants, 'mosquitto.service')))
  t.match(install(root).out, /unchanged: mosquitto not enabled/)

  const bad = install(root, '--iface', 'eth0\nport=53')
  t.equal(bad.code, 2, 'an interface name that would inject config lines is refused')
  t.equal(install(root, '--bogus').code, 2)
  const help = spawnSync('bash', [join(repo, 'scripts/install-pi.sh'), '--help'], { encoding: 'utf8' })
  t.equal(help.status, 0)
  t.match(help.stdout, /--dry-run[\s\S]*--root DIR[\s\S]*--iface IFACE/)
})

t.test('systemd-analyze verify passes on the installed unit', { skip: has('systemd-analyze') ? false : 'systemd-analyze is not installed (.ci/run installs it)' }, async (t) => {
  const root = t.testdir()
  t.equal(install(root).code, 0)
  // verify checks that ExecStart's binary exists: render the installed unit with this test's node,
  // which is /usr/bin/node on a Pi and may live elsewhere on a CI machine. Nothing else is changed.
  const unit = read(root, 'etc/systemd/system/dispenser-hub.service')
  const rendered = join(root, 'dispenser-hub.service')
  writeFileSync(rendered, unit.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `))
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', rendered], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout + r.stderr)
  t.equal(r.stderr.trim(), '', 'no warnings (an unknown or misspelt key would be one)')

  // systemd's own hardening score (0 = locked down, 10 = none). The plain unit shows the check bites.
  const exposure = (unit: string) => {
    const s = spawnSync('systemd-analyze', ['security', '--offline=true', '--threshold=20', unit], { encoding: 'utf8' })
    return { code: s.status, level: Number(/Overall exposure level for \S+: ([\d.]+)/.exec(s.stdout + s.stderr)?.[1]) }
  }
  const hardened = exposure(rendered)
  t.equal(hardened.code, 0, `exposure ${hardened.level} is at most 2.0`)
  t.ok(hardened.level <= 2, `exposure ${hardened.level}`)
  const plain = join(root, 'plain.service')
  writeFileSync(plain, `[Service]\nExecStart=${process.execPath}\n`)
  t.not(exposure(plain).code, 0, 'an unhardened unit fails the same check')
})

const dnsmasqBin = existsSync('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : 'dnsmasq'
t.test('dnsmasq accepts the DHCP config', { skip: has(dnsmasqBin) ? false : 'dnsmasq is not installed (.ci/run installs dnsmasq-base)' }, async (t) => {
  const root = t.testdir()
  t.equal(install(root, '--iface', 'eth1').code, 0)
  const conf = join(root, 'etc/dnsmasq.d/dispenser-hub.conf')
  t.match(readFileSync(conf, 'utf8'), /^interface=eth1$/m, '--iface names the port')
  const r = spawnSync(dnsmasqBin, ['--test', `--conf-file=${conf}`], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout + r.stderr)
  t.match(r.stderr, /syntax check OK/)
})

// ---------------------------------------------------------------- issue 15: checks before any change

t.test('--iface must exist: a missing interface is refused, naming those there are and what to do', async (t) => {
  const root = t.testdir()
  const env = fakeNet(root, ['eth0', 'wlan0'], 'wlan0')
  const r = installWith(root, env, '--iface', 'eth1')
  t.equal(r.code, 1, r.out)
  t.match(r.out, /--iface eth1: there is no such network interface \(this Pi has: eth0 wlan0\)/)
  t.match(r.out, /run again with --iface set to it/)
  t.notOk(existsSync(join(root, 'etc')), 'nothing was written')
  t.equal(installWith(root, env, '--iface', 'eth1', '--force').code, 1, '--force does not conjure an interface')
  const ok = installWith(root, env, '--iface', 'eth0')
  t.equal(ok.code, 0, ok.out)
  t.match(ok.out, /ok: eth0 exists\n\s+ok: eth0 is not the default route \(that is wlan0\)/)
})

t.test('--iface carrying the default route is refused without --force', async (t) => {
  const root = t.testdir()
  const env = fakeNet(root, ['eth0', 'wlan0'], 'eth0')
  const r = installWith(root, env, '--iface', 'eth0')
  t.equal(r.code, 1, r.out)
  t.match(r.out, /--iface eth0 carries this Pi's default route \(its internet connection\)/)
  t.match(r.out, /Connect the Pi's uplink another way first[\s\S]*Or pass --force/)
  t.notOk(existsSync(join(root, 'etc/NetworkManager')), 'no network profile written')
  const forced = installWith(root, env, '--iface', 'eth0', '--force')
  t.equal(forced.code, 0, forced.out)
  t.match(forced.out, /WARNING \(--force\): --iface eth0 carries this Pi's default route/)
})

t.test('--iface carrying this SSH session is refused without --force', async (t) => {
  const root = t.testdir()
  const env = { ...fakeNet(root, ['eth0', 'wlan0'], 'wlan0'), SSH_CONNECTION: '10.0.0.77 52144 10.0.0.5 22' }
  const r = installWith(root, env, '--iface', 'eth0')
  t.equal(r.code, 1, r.out)
  t.match(r.out, /--iface eth0 carries this SSH session \(10\.0\.0\.77 -> eth0\)/)
  t.match(r.out, /from the Pi's console, or over SSH through another interface/)
  const viaWifi = installWith(root, { ...env, SSH_CONNECTION: '10.0.1.77 52144 10.0.1.5 22' }, '--iface', 'eth0')
  t.equal(viaWifi.code, 0, viaWifi.out)
  t.match(viaWifi.out, /ok: this SSH session is not on eth0 \(it is on wlan0\)/)
})

t.test('NetworkManager must be active (checked through a systemctl stand-in)', async (t) => {
  const root = t.testdir()
  const net = fakeNet(root, ['eth0'])
  const r = installWith(root, { ...net, ...fakeSystemctl(root, 'inactive') })
  t.equal(r.code, 1, r.out)
  t.match(r.out, /NetworkManager is not active \(systemctl is-active NetworkManager: inactive\)/)
  t.match(r.out, /raspi-config[\s\S]*systemctl enable --now NetworkManager/)
  const active = installWith(root, { ...net, ...fakeSystemctl(root, 'active') })
  t.equal(active.code, 0, active.out)
  t.match(active.out, /ok: NetworkManager is active/)
})

t.test("the Pi's own DNS is kept: DNSMASQ_EXCEPT=lo, the package's other settings kept, bind-dynamic", async (t) => {
  const root = t.testdir()
  mkdirSync(join(root, 'etc/default'), { recursive: true })
  writeFileSync(join(root, 'etc/default/dnsmasq'), '# Debian defaults\nENABLED=1\nDNSMASQ_EXCEPT=\nCONFIG_DIR=/etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new\n', { mode: 0o644 })
  t.equal(install(root).code, 0)
  const defaults = read(root, 'etc/default/dnsmasq')
  t.match(defaults, /^DNSMASQ_EXCEPT=lo$/m, 'dnsmasq does not become the resolver (127.0.0.1, where nothing answers with port=0)')
  t.equal(defaults.match(/^DNSMASQ_EXCEPT=/gm)?.length, 1)
  t.match(defaults, /^ENABLED=1$/m)
  t.match(defaults, /^CONFIG_DIR=\/etc\/dnsmasq\.d,/m, 'the package lines are kept')
  const conf = read(root, 'etc/dnsmasq.d/dispenser-hub.conf')
  t.match(conf, /^bind-dynamic$/m)
  t.notMatch(conf, /^bind-interfaces$/m, 'bind-dynamic, not bind-interfaces: a port that appears later is served')
  t.notOk(existsSync(join(root, 'etc/resolv.conf')), 'the resolver itself is not touched')
  t.match(install(root).out, /unchanged \/etc\/default\/dnsmasq/)
})

t.test('time: without an RTC fake-hwclock is named; a Pi 5 RTC is found', async (t) => {
  const root = t.testdir()
  t.match(install(root).out, /no RTC \(Raspberry Pi 4 and older\): fake-hwclock restores the last saved time at boot/)
  mkdirSync(join(root, 'sys/class/rtc/rtc0'), { recursive: true })
  writeFileSync(join(root, 'sys/class/rtc/rtc0/name'), 'rpi-rtc soc:rpi_rtc\n')
  const pi5 = install(root)
  t.match(pi5.out, /RTC present \(rpi-rtc soc:rpi_rtc, Raspberry Pi 5\)/)
  t.match(pi5.out, /skipped under --root: apt-get install systemd-timesyncd fake-hwclock, timedatectl set-ntp true/)
})

t.test('boot fallback: a release that keeps failing to start is replaced by the previous one, once', async (t) => {
  const root = t.testdir()
  t.equal(install(root).code, 0)
  const app = join(root, 'opt/dispenser-hub')
  const script = join(app, 'bin/boot-fallback.sh')
  t.equal(mode(script), 0o755, 'installed outside the releases')
  t.match(read(root, 'etc/systemd/system/dispenser-hub.service'), /^OnFailure=dispenser-hub-fallback\.service$/m)
  t.match(read(root, 'etc/systemd/system/dispenser-hub.service'), /^StartLimitBurst=5$/m)
  for (const v of ['0.1.0', '0.2.0']) {
    mkdirSync(join(app, `releases/${v}/dist`), { recursive: true })
    writeFileSync(join(app, `releases/${v}/dist/main.js`), '')
  }
  // update.sh switched to 0.2.0 and kept previous -> 0.1.0; then a power cut, and 0.2.0 cannot start
  spawnSync('ln', ['-sfn', 'releases/0.2.0', join(app, 'current')])
  spawnSync('ln', ['-sfn', 'releases/0.1.0', join(app, 'previous')])
  const calls = join(root, 'systemctl.log')
  const systemctl = join(root, 'fake-systemctl')
  writeFileSync(systemctl, `#!/bin/sh\necho "$*" >> ${calls}\n`, { mode: 0o755 })
  const run = () => spawnSync('bash', [script], { encoding: 'utf8', env: { ...process.env, ROOT: root, SYSTEMCTL: systemctl, FALLBACK_PAUSE_S: '0' } })
  const first = run()
  t.equal(first.status, 0, first.stdout + first.stderr)
  t.match(first.stdout, /releases\/0\.2\.0 keeps failing to start; falling back to releases\/0\.1\.0/)
  t.equal(readlinkSync(join(app, 'current')), 'releases/0.1.0')
  t.equal(readlinkSync(join(app, 'failed')), 'releases/0.2.0', 'the failed release is named for staff')
  t.same(readFileSync(calls, 'utf8').trim().split('\n'), ['reset-failed dispenser-hub.service', 'start --no-block dispenser-hub.service'])
  // the previous release fails too: no flip back, it is started again after a pause
  const second = run()
  t.equal(second.status, 0)
  t.match(second.stdout, /no other release to fall back to; starting it again in 0s/)
  t.equal(readlinkSync(join(app, 'current')), 'releases/0.1.0', 'never flips back to the failed one')
})

t.test('systemd-analyze verify passes on the hub unit with its OnFailure fallback unit', { skip: has('systemd-analyze') ? false : 'systemd-analyze is not installed (.ci/run installs it)' }, async (t) => {
  const root = t.testdir()
  t.equal(install(root).code, 0)
  const dir = join(root, 'verify')
  mkdirSync(dir)
  // ExecStart binaries must exist for verify: render both with paths that exist on this machine
  const hub = read(root, 'etc/systemd/system/dispenser-hub.service').replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `)
  const fallback = read(root, 'etc/systemd/system/dispenser-hub-fallback.service').replace('ExecStart=/opt/dispenser-hub/bin/boot-fallback.sh', `ExecStart=${join(root, 'opt/dispenser-hub/bin/boot-fallback.sh')}`)
  writeFileSync(join(dir, 'dispenser-hub.service'), hub)
  writeFileSync(join(dir, 'dispenser-hub-fallback.service'), fallback)
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'dispenser-hub.service'), join(dir, 'dispenser-hub-fallback.service')], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout + r.stderr)
  t.equal(r.stderr.trim(), '', 'no warnings: OnFailure= names a unit that exists, every key is known')
})
