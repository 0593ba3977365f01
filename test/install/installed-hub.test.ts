// The hub started on what install-pi.sh --root wrote (hub.env settings, data dir, admin token)
// accepts the token the installer showed: the installer and the hub agree on the token file.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../helpers/free-port.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))


/** hub.env as systemd's EnvironmentFile reads it (KEY=value lines, # comments). */
function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line)
    if (m?.[1] !== undefined && m[2] !== undefined) env[m[1]] = m[2]
  }
  return env
}

t.test('the hub signs in with the admin token the installer showed once', async (t) => {
  const root = t.testdir()
  const install = spawnSync('bash', [join(repo, 'scripts/install-pi.sh'), '--root', root], { encoding: 'utf8' })
  t.equal(install.status, 0, install.stdout + install.stderr)
  const token = /Admin token \(shown once[^\n]*\n\s*(\S+)/.exec(install.stdout)?.[1] ?? ''
  const settings = readEnvFile(join(root, 'etc/dispenser-hub/hub.env'))
  t.equal(settings.HUB_MQTT_ALLOW_ANONYMOUS, 'false')

  const port = await freePort()
  const hub = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/main.ts')], {
    cwd: repo,
    stdio: 'ignore',
    env: {
      ...process.env,
      ...settings,
      // paths under the test root; 192.168.4.1 is not this machine's address
      HUB_DATA_DIR: join(root, settings.HUB_DATA_DIR ?? 'missing'),
      HUB_MQTT_HOST: '127.0.0.1',
      HUB_MQTT_PORT: '0',
      HUB_HTTP_HOST: '127.0.0.1',
      HUB_HTTP_PORT: String(port),
    },
  })
  t.teardown(async () => {
    if (hub.exitCode === null && hub.signalCode === null) {
      hub.kill('SIGTERM')
      await once(hub, 'exit')
    }
  })

  const base = `http://127.0.0.1:${port}`
  let up = false
  for (let i = 0; i < 120 && !up && hub.exitCode === null; i++) {
    up = await fetch(`${base}/api/health`).then((r) => r.ok, () => false)
    if (!up) await new Promise((resolve) => setTimeout(resolve, 500))
  }
  t.ok(up, 'the hub serves /api/health')
  const me = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(me.status, 200, 'the installer token is the admin token')
  t.match(await me.json(), { role: 'admin' })
  const wrong = await fetch(`${base}/api/me`, { headers: { authorization: 'Bearer not-the-token-at-all' } })
  t.equal(wrong.status, 401)
  t.equal(readFileSync(join(root, 'var/lib/dispenser-hub/admin-token'), 'utf8').trim(), token, 'the hub kept the installer token')
})
