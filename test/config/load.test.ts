import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { ConfigError, loadConfig } from '../../src/config/index.js'

t.test('defaults match DESIGN §3', async (t) => {
  const c = loadConfig({ HUB_TIMEZONE: 'Europe/London' })
  t.equal(c.dataDir, './data')
  t.equal(c.mqttHost, '127.0.0.1')
  t.equal(c.mqttPort, 1883)
  t.equal(c.httpPort, 8080)
  t.equal(c.mqttWsPort, null)
  t.equal(c.slotMinutes, 5)
  t.equal(c.bufferMinutes, 0)
  t.equal(c.mqttAllowAnonymous, false)
  t.equal(c.simulate, 0)
  t.same(c.machineIds, Array.from({ length: 20 }, (_, i) => i + 1))
  t.same(c.layoutRows, [Array.from({ length: 20 }, (_, i) => i + 1)])
  t.ok(Object.isFrozen(c), 'config is frozen')
})

t.test('environment beats file beats defaults; file may be YAML or JSON', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hubcfg-'))
  const yaml = join(dir, 'hub.yaml')
  writeFileSync(yaml, 'HUB_MQTT_PORT: 1999\nhttpPort: 9000\nHUB_MACHINES: "1-4"\n')
  const c = loadConfig({ HUB_CONFIG: yaml, HUB_HTTP_PORT: '0' })
  t.equal(c.mqttPort, 1999, 'file value used')
  t.equal(c.httpPort, 0, 'env beats file')
  t.same(c.machineIds, [1, 2, 3, 4])
  const json = join(dir, 'hub.json')
  writeFileSync(json, JSON.stringify({ HUB_LAYOUT: '1-2;4,3', HUB_MACHINES: '1-4' }))
  t.same(loadConfig({ HUB_CONFIG: json }).layoutRows, [[1, 2], [4, 3]])
})

t.test('a bad setting stops start-up naming the setting', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ HUB_MQTT_PORT: 'abc' }, /HUB_MQTT_PORT.*whole number/],
    [{ HUB_HTTP_PORT: '70000' }, /HUB_HTTP_PORT/],
    [{ HUB_MACHINES: '1-x' }, /HUB_MACHINES/],
    [{ HUB_LAYOUT: '1-10;10-20' }, /HUB_LAYOUT.*bay 10 appears twice/],
    [{ HUB_LAYOUT: '1-30' }, /HUB_LAYOUT.*bay 21 is not in HUB_MACHINES/],
    [{ HUB_TIMEZONE: 'Mars/Olympus' }, /HUB_TIMEZONE/],
    [{ HUB_LOCALE: 'en_GB!' }, /HUB_LOCALE.*BCP 47/],
    [{ HUB_TIME_FORMAT: '25h' }, /HUB_TIME_FORMAT/],
    [{ HUB_MQTT_ALLOW_ANONYMOUS: 'maybe' }, /HUB_MQTT_ALLOW_ANONYMOUS/],
    [{ HUB_SLOT_MINUTES: '7' }, /HUB_SLOT_MINUTES/],
    [{ HUB_OPENING_HOURS: '22:00-08:00' }, /HUB_OPENING_HOURS/],
    [{ HUB_MQTT_TLS_PORT: '8883' }, /HUB_MQTT_TLS_PORT/],
    [{ HUB_CONFIG: '/nonexistent/hub.yaml' }, /HUB_CONFIG.*cannot read/],
  ]
  for (const [env, pattern] of cases) {
    t.throws(() => loadConfig(env), pattern, JSON.stringify(env))
    try {
      loadConfig(env)
    } catch (error) {
      t.type(error, ConfigError)
    }
  }
})

t.test('an unknown key in the file is refused by name', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hubcfg-'))
  const file = join(dir, 'hub.json')
  writeFileSync(file, JSON.stringify({ HUB_MQTT_PROT: 1 }))
  t.throws(() => loadConfig({ HUB_CONFIG: file }), /HUB_MQTT_PROT.*unknown setting/)
})
