// scripts/update.sh against two local builds under --root, with a stand-in for systemctl
// (SYSTEMCTL) that runs `current` as a background process: the real systemd is never touched.
import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../helpers/free-port.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))


/** A fake build: dist/main.js serves /api/health with `status` and the release's version. */
function build(dir: string, version: string, status: number) {
  mkdirSync(join(dir, 'dist'), { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'dispenser-hub', version }))
  writeFileSync(join(dir, 'dist/main.js'), `require('http').createServer((q, s) => {
    s.statusCode = q.url === '/api/health' ? ${status} : 404
    s.end(JSON.stringify({ ok: ${status === 200}, version: '${version}' }))
  }).listen(Number(process.env.FAKE_PORT), '127.0.0.1')\nprocess.on('SIGTERM', () => process.exit(0))\n`)
  return dir
}

/** An installed layout with release 1.0.0 current, the fake systemctl and the hub started by it. */
async function world(t: Test) {
  const root = t.testdir()
  const app = join(root, 'opt/dispenser-hub')
  const port = await freePort()
  build(join(app, 'releases/1.0.0'), '1.0.0', 200)
  symlinkSync('releases/1.0.0', join(app, 'current'))
  // The pid file lives outside the testdir: tap removes the testdir before later teardowns run.
  const run = mkdtempSync(join(tmpdir(), 'hub-update-test-'))
  const pidFile = join(run, 'hub.pid')
  const systemctl = join(root, 'systemctl')
  // restart: stop the running hub and wait until it is gone (its port free), then start `current`.
  writeFileSync(systemctl, `#!/usr/bin/env bash
[ "$1 $2" = "restart dispenser-hub" ] || { echo "fake systemctl: $*" >&2; exit 1; }
if [ -f ${pidFile} ]; then
  pid=$(cat ${pidFile}); kill "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
FAKE_PORT=${port} setsid node ${app}/current/dist/main.js >/dev/null 2>&1 < /dev/null &
echo $! > ${pidFile}
`, { mode: 0o755 })
  t.teardown(() => {
    spawnSync('bash', ['-c', `[ -f ${pidFile} ] && kill $(cat ${pidFile}) 2>/dev/null`])
    rmSync(run, { recursive: true, force: true })
  })
  spawnSync(systemctl, ['restart', 'dispenser-hub'])
  const url = `http://127.0.0.1:${port}/api/health`
  return { root, app, url, systemctl, pidFile }
}

function update(w: { root: string; url: string; systemctl: string }, ...args: string[]) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('bash', [join(repo, 'scripts/update.sh'), '--root', w.root, '--health-url', w.url, ...args], {
      env: { ...process.env, SYSTEMCTL: w.systemctl },
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', (code) => resolve({ code, out }))
  })
}

const health = (url: string) => fetch(url).then(async (r) => ({ status: r.status, body: await r.json() }))

t.test('update.sh rolls back when the new release fails its health check', async (t) => {
  const w = await world(t)
  const b = build(join(w.root, 'builds/b'), '1.1.0', 503)
  const r = await update(w, '--release', b, '--timeout', '10', '--settle', '2')
  t.equal(r.code, 1, 'the update reports failure')
  t.match(r.out, /switch current: releases\/1\.0\.0 -> releases\/1\.1\.0-\d{14}/, 'the new release was switched to')
  t.match(r.out, /not healthy within 10s: rolling back to releases\/1\.0\.0/)
  t.match(r.out, /rolled back to releases\/1\.0\.0 \(the failed release stays/)
  t.equal(readlinkSync(join(w.app, 'current')), 'releases/1.0.0', 'current points at the previous release again')
  t.same(await health(w.url), { status: 200, body: { ok: true, version: '1.0.0' } }, 'and the previous release serves again')
  t.ok(readdirSync(join(w.app, 'releases')).some((n) => /^1\.1\.0-\d{14}$/.test(n)), 'the failed release is kept')
})

t.test('update.sh switches to a healthy release and prunes old ones, never current or previous', async (t) => {
  const w = await world(t)
  build(join(w.app, 'releases/0.9.0'), '0.9.0', 200) // newer mtime than 1.0.0, yet older than the update
  const c = build(join(w.root, 'builds/c'), '2.0.0', 200)
  const r = await update(w, '--release', c, '--timeout', '30', '--settle', '2', '--keep', '2')
  t.equal(r.code, 0, r.out)
  const current = readlinkSync(join(w.app, 'current'))
  t.match(current, /^releases\/2\.0\.0-\d{14}$/)
  t.same(await health(w.url), { status: 200, body: { ok: true, version: '2.0.0' } })
  t.same(readdirSync(join(w.app, 'releases')).sort(), ['1.0.0', current.slice('releases/'.length)], 'kept current and previous only')
  t.match(r.out, /removed releases\/0\.9\.0/)
  t.equal(readlinkSync(join(w.app, 'previous')), 'releases/1.0.0', 'previous names the release the boot fallback goes back to')
})

t.test('update.sh polls the HTTP port of hub.env (issue 15), and syncs before and after switching', async (t) => {
  const root = t.testdir()
  const app = join(root, 'opt/dispenser-hub')
  build(join(app, 'releases/1.0.0'), '1.0.0', 200)
  symlinkSync('releases/1.0.0', join(app, 'current'))
  mkdirSync(join(root, 'etc/dispenser-hub'), { recursive: true })
  const c = build(join(root, 'builds/c'), '2.0.0', 200)
  const env = join(root, 'etc/dispenser-hub/hub.env')
  const dry = (hubEnv: string) => {
    writeFileSync(env, hubEnv)
    return spawnSync('bash', [join(repo, 'scripts/update.sh'), '--root', root, '--release', c, '--dry-run'], { encoding: 'utf8', env: { ...process.env, SYSTEMCTL: 'true' } })
  }
  t.match(dry('HUB_HTTP_PORT=8181\nHUB_HTTP_HOST=0.0.0.0\n').stdout, /poll http:\/\/127\.0\.0\.1:8181\/api\/health/, 'the port from hub.env, on loopback for a wildcard host')
  t.match(dry('HUB_HTTP_HOST=192.168.4.1\n').stdout, /poll http:\/\/192\.168\.4\.1:8080\/api\/health/, 'the host from hub.env, the default port')
  const bad = dry('HUB_HTTP_PORT=80; rm -rf /\n')
  t.equal(bad.status, 1)
  t.match(bad.stderr, /HUB_HTTP_PORT in hub\.env is "80; rm -rf \/", not a port/)

  // a real update with `sync` replaced by a recorder on PATH: it runs around the link switch
  const port = await freePort()
  const bin = join(root, 'bin')
  mkdirSync(bin)
  const log = join(root, 'calls.log')
  writeFileSync(join(bin, 'sync'), `#!/bin/sh\necho "sync current=$(readlink ${app}/current)" >> ${log}\n`, { mode: 0o755 })
  writeFileSync(env, `HUB_HTTP_PORT=${port}\n`)
  const restart = `echo restart >> ${log}; FAKE_PORT=${port} setsid node ${app}/current/dist/main.js >/dev/null 2>&1 < /dev/null & echo $! > ${join(root, 'pid')}`
  const r = spawnSync('bash', [join(repo, 'scripts/update.sh'), '--root', root, '--release', c, '--restart-cmd', restart, '--settle', '1', '--timeout', '20'], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } })
  // stop the fake hub now: tap removes the testdir (and the pid file in it) before teardowns run
  const hubPid = Number(readFileSync(join(root, 'pid'), 'utf8'))
  try {
    process.kill(hubPid)
  } catch {
    // already gone
  }
  t.equal(r.status, 0, r.stdout + r.stderr)
  const calls = readFileSync(log, 'utf8').trim().split('\n')
  t.match(calls, [/^sync current=releases\/1\.0\.0$/, /^sync current=releases\/2\.0\.0-\d{14}$/, 'restart'], 'sync, switch, sync, then restart')
})

t.test('update.sh --dry-run changes nothing; --root without a systemctl stand-in is refused', async (t) => {
  const w = await world(t)
  const c = build(join(w.root, 'builds/c'), '2.0.0', 200)
  const pid = readFileSync(w.pidFile, 'utf8')
  const dry = await update(w, '--release', c, '--dry-run')
  t.equal(dry.code, 0, dry.out)
  t.match(dry.out, /would link \/opt\/dispenser-hub\/current -> releases\/2\.0\.0-\d{14} \(now releases\/1\.0\.0\)/)
  t.match(dry.out, /would run .*systemctl restart dispenser-hub, then poll/)
  t.same(readdirSync(join(w.app, 'releases')), ['1.0.0'])
  t.equal(readFileSync(w.pidFile, 'utf8'), pid, 'no restart')
  t.notOk(existsSync(join(w.app, '.update.lock')))

  const r = spawnSync('bash', [join(repo, 'scripts/update.sh'), '--root', w.root, '--release', c], { encoding: 'utf8', env: { ...process.env, SYSTEMCTL: '' } })
  t.equal(r.status, 2, 'the real systemctl is never used under --root')
  t.match(r.stderr, /--root needs --restart-cmd CMD or SYSTEMCTL/)
})

t.test('update.sh from a checkout whose sources the current release was built from does nothing', async (t) => {
  const root = t.testdir()
  const install = spawnSync('bash', [join(repo, 'scripts/install-pi.sh'), '--root', root], { encoding: 'utf8' })
  t.equal(install.status, 0, install.stdout + install.stderr)
  const r = spawnSync('bash', [join(repo, 'scripts/update.sh'), '--root', root, '--restart-cmd', 'false'], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stdout + r.stderr)
  t.match(r.stdout, /unchanged: releases\/0\.1\.0 was built from the same sources; nothing to update/)
  t.same(readdirSync(join(root, 'opt/dispenser-hub/releases')), ['0.1.0'], 'update.sh works on the layout install-pi.sh made')
})
