/**
 * Issue 10: the hub's state is private. LevelDB folders (broker/, state/) are 0700 and every file
 * in them 0600, as are credentials.json and admin-token, whatever the umask; files an older
 * version left readable are fixed at start.
 */
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import mqtt from 'mqtt'
import { addMachine } from '../helpers/broker.js'
import { startHubProcess } from '../helpers/hub-process.js'

function modes(dir: string, out: Array<[string, number]> = []): Array<[string, number]> {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    const st = statSync(path)
    out.push([path, st.mode & 0o777])
    if (st.isDirectory()) modes(path, out)
  }
  return out
}

t.test('LevelDB folders 0700 and files 0600; credentials and admin token 0600', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  // what an older version (umask 022) left behind
  mkdirSync(join(dir, 'state'), { mode: 0o755 })
  writeFileSync(join(dir, 'state', 'LOG.old'), 'x', { mode: 0o644 })
  chmodSync(join(dir, 'credentials.json'), 0o644)
  const hub = await startHubProcess({ HUB_DATA_DIR: dir, HUB_TIMEZONE: 'UTC', HUB_MACHINES: '1-5' })
  t.teardown(() => hub.kill())
  // some writes: a broker session and a machine record
  const m1 = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'machine_001', username: 'machine_001', password: 's1', keepalive: 10, reconnectPeriod: 0 })
  await m1.subscribeAsync('external/machine/1', { qos: 1 })
  await m1.publishAsync('external/handler', JSON.stringify({ machine_id: 1, status: 'idle', ball_level: 'full' }), { qos: 1 })
  await m1.endAsync()

  for (const db of ['broker', 'state']) {
    t.equal(statSync(join(dir, db)).mode & 0o777, 0o700, `${db}/ is 0700`)
    const loose = modes(join(dir, db)).filter(([, mode]) => mode !== 0o600 && mode !== 0o700)
    t.same(loose, [], `everything in ${db}/ is 0600 (folders 0700)`)
  }
  t.equal(statSync(join(dir, 'credentials.json')).mode & 0o777, 0o600, 'credentials.json 0600')
  t.equal(statSync(join(dir, 'admin-token')).mode & 0o777, 0o600, 'admin-token 0600')
})
