import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const script = (name: string) => join(repo, 'scripts', name)
const tools = Object.fromEntries(
  ['shellcheck', 'systemd-analyze'].map((tool) => [tool, spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0]),
)

function install(root: string, ...args: string[]) {
  const r = spawnSync('bash', [script('install-pi.sh'), '--root', root, ...args], { encoding: 'utf8' })
  return { code: r.status, out: r.stdout + r.stderr }
}

/** path -> mode + sha256 + mtime of every file under root, to prove a re-run touches nothing */
function snapshot(root: string, dir = ''): Record<string, string> {
  const out: Record<string, string> = {}
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name)
    const full = join(root, rel)
    if (entry.isDirectory()) Object.assign(out, snapshot(root, rel))
    else if (entry.isSymbolicLink()) out[rel] = `-> ${readlinkSync(full)}`
    else {
      const st = statSync(full)
      out[rel] = `${(st.mode & 0o777).toString(8)} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`
    }
  }
  return out
}

t.test('shellcheck passes on every script', { skip: tools.shellcheck ? false : 'shellcheck is not installed (.ci/run installs it)' }, async (t) => {
  const scripts = ['install-pi.sh', 'update.sh', 'lib/install-common.sh'].map(script)
  const r = spawnSync('shellcheck', ['-x', ...scripts], { encoding: 'utf8', cwd: repo })
  t.equal(r.status, 0, r.stdout + r.stderr)
})

t.test('install-pi.sh --root writes the unit, config, dnsmasq and network files; a second run changes nothing', async (t) => {
  const root = t.testdir({ etc: { timezone: 'Europe/London\n' } })
  const first = install(root)
  t.equal(first.code, 0, first.out)
  t.match(first.out, /Admin token \(shown once/)

  const unit = readFileSync(join(root, 'etc/systemd/system/dispenser-hub.service'), 'utf8')
  for (const line of ['Restart=always', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/dispenser-hub', 'User=dispenser-hub', 'EnvironmentFile=/etc/dispenser-hub/hub.env', 'WantedBy=multi-user.target', 'StandardOutput=journal']) {
    t.match(unit, line, `unit has ${line}`)
  }
  const env = readFileSync(join(root, 'etc/dispenser-hub/hub.env'), 'utf8')
  t.match(env, 'HUB_MQTT_HOST=192.168.4.1')
  t.match(env, 'HUB_DATA_DIR=/var/lib/dispenser-hub')
  t.match(env, 'HUB_MQTT_ALLOW_ANONYMOUS=false')
  t.match(env, 'HUB_TIMEZONE=Europe/London')
  const nm = join(root, 'etc/NetworkManager/system-connections/dispenser-hub.nmconnection')
  t.match(readFileSync(nm, 'utf8'), /address1=192\.168\.4\.1\/24[\s\S]*never-default=true/)
  t.equal(statSync(nm).mode & 0o777, 0o600, 'NetworkManager refuses keyfiles others can read')
  const dnsmasq = readFileSync(join(root, 'etc/dnsmasq.d/dispenser-hub.conf'), 'utf8')
  t.match(dnsmasq, 'interface=eth0')
  t.match(dnsmasq, 'bind-interfaces')
  const range = /dhcp-range=192\.168\.4\.(\d+),192\.168\.4\.(\d+)/.exec(dnsmasq)!
  t.ok(Number(range[2]) - Number(range[1]) + 1 >= 250, 'room for 250 dispensers')
  const token = join(root, 'var/lib/dispenser-hub/admin-token')
  t.equal(statSync(token).mode & 0o777, 0o600)
  t.equal(readlinkSync(join(root, 'opt/dispenser-hub/current')), 'releases/0.1.0')
  t.ok(existsSync(join(root, 'opt/dispenser-hub/releases/0.1.0/src/main.ts')))

  const before = snapshot(root)
  const second = install(root)
  t.equal(second.code, 0, second.out)
  t.match(second.out, /done: nothing changed/)
  t.notMatch(second.out, /Admin token \(shown once/, 'the token is not shown again')
  t.same(snapshot(root), before, 'no file written, moved or re-moded')

  const other = install(root, '--iface', 'eth1', '--dry-run')
  t.match(other.out, /would write \/etc\/dnsmasq\.d\/dispenser-hub\.conf/)
  t.same(snapshot(root), before, '--dry-run changes nothing')
})

t.test('install-pi.sh disables an enabled mosquitto', async (t) => {
  const root = t.testdir({ etc: { systemd: { system: { 'multi-user.target.wants': {} } } } })
  execFileSync('ln', ['-s', '/lib/systemd/system/mosquitto.service', join(root, 'etc/systemd/system/multi-user.target.wants/mosquitto.service')])
  const r = install(root)
  t.match(r.out, /disable mosquitto/)
  t.notOk(existsSync(join(root, 'etc/systemd/system/multi-user.target.wants/mosquitto.service')))
})

t.test('systemd-analyze verify passes on the unit', { skip: tools['systemd-analyze'] ? false : 'systemd-analyze is not installed' }, async (t) => {
  const dir = t.testdir()
  const unit = join(dir, 'dispenser-hub.service')
  writeFileSync(unit, readFileSync(script('systemd/dispenser-hub.service')))
  const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout + r.stderr)
  t.equal(r.stderr.trim(), '', 'no warnings')
})

t.test('update.sh rolls back when the new release fails its health check', async (t) => {
  const root = t.testdir()
  const app = join(root, 'opt/dispenser-hub')
  const port = 20000 + Math.floor(Math.random() * 20000)
  // Two local builds: A answers /api/health, B starts and exits without serving.
  const release = (name: string, body: string) => {
    const dir = join(root, 'builds', name)
    mkdirSync(join(dir, 'dist'), { recursive: true })
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'dispenser-hub', version: name === 'a' ? '1.0.0' : '1.1.0' }))
    writeFileSync(join(dir, 'dist/main.js'), body)
    return dir
  }
  const a = release('a', `require('http').createServer((q, s) => s.end(JSON.stringify({ ok: true, release: 'a' }))).listen(${port}, '127.0.0.1')`)
  const b = release('b', `process.exit(1)`)
  mkdirSync(join(app, 'releases'), { recursive: true })
  execFileSync('cp', ['-a', a, join(app, 'releases/1.0.0')])
  execFileSync('ln', ['-s', 'releases/1.0.0', join(app, 'current')])
  // Stands in for `systemctl restart`: stop the running hub, start `current` in the background.
  const pidFile = join(root, 'hub.pid')
  const restart = `[ -f ${pidFile} ] && kill $(cat ${pidFile}) 2>/dev/null; sleep 0.2; (node ${app}/current/dist/main.js >/dev/null 2>&1 & echo $! > ${pidFile})`
  execFileSync('bash', ['-c', restart])
  t.teardown(() => spawnSync('bash', ['-c', `kill $(cat ${pidFile}) 2>/dev/null`]))
  const url = `http://127.0.0.1:${port}/api/health`
  const r = spawnSync('bash', [script('update.sh'), '--root', root, '--release', b, '--health-url', url, '--timeout', '3', '--restart-cmd', restart], { encoding: 'utf8' })
  t.equal(r.status, 1, 'update reports failure')
  t.match(r.stdout, /not healthy within 3s: rolling back to releases\/1\.0\.0/)
  t.match(r.stdout, /rolled back to releases\/1\.0\.0/)
  t.equal(readlinkSync(join(app, 'current')), 'releases/1.0.0', 'current points at the previous release again')
  const health = await fetch(url).then((res) => res.json())
  t.same(health, { ok: true, release: 'a' }, 'and the previous release serves again')
  t.ok(readdirSync(join(app, 'releases')).some((n) => n.startsWith('1.1.0-')), 'the failed release is kept for inspection')
})

t.test('update.sh switches to a healthy release', async (t) => {
  const root = t.testdir()
  const app = join(root, 'opt/dispenser-hub')
  const port = 20000 + Math.floor(Math.random() * 20000)
  const dir = join(root, 'builds/c')
  mkdirSync(join(dir, 'dist'), { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ version: '2.0.0' }))
  writeFileSync(join(dir, 'dist/main.js'), `require('http').createServer((q, s) => s.end('{"ok":true}')).listen(${port}, '127.0.0.1')`)
  mkdirSync(join(app, 'releases/1.0.0'), { recursive: true })
  execFileSync('ln', ['-s', 'releases/1.0.0', join(app, 'current')])
  const pidFile = join(root, 'hub.pid')
  const restart = `[ -f ${pidFile} ] && kill $(cat ${pidFile}) 2>/dev/null; (node ${app}/current/dist/main.js >/dev/null 2>&1 & echo $! > ${pidFile})`
  t.teardown(() => spawnSync('bash', ['-c', `kill $(cat ${pidFile}) 2>/dev/null`]))
  const r = spawnSync('bash', [script('update.sh'), '--root', root, '--release', dir, '--health-url', `http://127.0.0.1:${port}/api/health`, '--timeout', '10', '--restart-cmd', restart], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout + r.stderr)
  t.match(readlinkSync(join(app, 'current')), /^releases\/2\.0\.0-\d{14}$/)
})
