/**
 * The bundle's `debug` (scripts/build.mjs quietDebug, issue 17): a package's debugger that DEBUG
 * does not enable is an empty function (no rest array, no getter per call), and one DEBUG names
 * logs as debug itself does. Bundled here as the hub's packages are: a package in a node_modules
 * folder requiring 'debug'.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
// @ts-expect-error plain .mjs build script, no types
import { quietDebug } from '../../scripts/build.mjs'

const run = (file: string, env: Record<string, string>) => {
  const r = spawnSync(process.execPath, [file], { env: { PATH: process.env.PATH ?? '', DEBUG_COLORS: 'no', ...env }, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`bundle exited with ${r.status}: ${r.stderr}`)
  return { seen: JSON.parse(r.stdout) as Record<string, unknown>, stderr: r.stderr }
}

t.test('off unless DEBUG names the namespace at start', async (t) => {
  const dir = t.testdir()
  mkdirSync(join(dir, 'node_modules', 'chatty'), { recursive: true })
  // CommonJS, as mqtt-packet is (the fixture sits under the repo's "type": "module")
  writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}')
  writeFileSync(join(dir, 'node_modules', 'chatty', 'package.json'), '{"name":"chatty","main":"index.js"}')
  writeFileSync(
    join(dir, 'node_modules', 'chatty', 'index.js'),
    `const debug = require('debug')('chatty:parser')\nmodule.exports = () => { debug('parsed %d', 42); return debug }\n`,
  )
  writeFileSync(
    join(dir, 'entry.js'),
    `const d = require('chatty')()\nprocess.stdout.write(JSON.stringify({ enabled: d.enabled, getter: typeof Object.getOwnPropertyDescriptor(d, 'enabled').get, body: d.toString().replace(/\\s+/g, ''), namespace: d.namespace, extended: d.extend('x').namespace, enable: typeof require('debug').enable }))\n`,
  )
  const { build } = await import('esbuild')
  const out = join(dir, 'bundle.cjs')
  await build({ entryPoints: [join(dir, 'entry.js')], outfile: out, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent', plugins: [quietDebug] })

  const off = run(out, {})
  t.same(off.seen, { enabled: false, getter: 'undefined', body: 'function(){}', namespace: 'chatty:parser', extended: 'chatty:parser:x', enable: 'function' }, 'an empty function, with what callers read of a debugger')
  t.equal(off.stderr, '', 'nothing logged')
  const on = run(out, { DEBUG: 'chatty:*' })
  t.equal(on.seen.enabled, true, 'DEBUG=chatty:* enables it')
  t.match(on.stderr, /chatty:parser parsed 42/, 'and it logs as debug does')
  const other = run(out, { DEBUG: 'mqtt-packet:*' })
  t.equal(other.seen.enabled, false, 'another namespace leaves it off')
})
