import t from 'tap'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/index.js'
import { ensureAdminToken } from '../../src/broker/admin-token.js'
import { createCredentialStore, credentialsPath, newApiToken, readCredentials, sha256, writeCredentials } from '../../src/broker/credentials.js'
import { addMachine, addNode } from '../helpers/broker.js'

const silent = pino({ level: 'silent' })

t.test('secrets are stored as scrypt hashes with their parameters, and verified', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 4, 'machine-secret')
  await addNode(dir, 'kiosk_interface', 'kiosk', 'node-secret')
  const text = readFileSync(credentialsPath(dir), 'utf8')
  t.notOk(text.includes('machine-secret') || text.includes('node-secret'), 'no secret in the file')
  t.match(JSON.parse(text).machines['4'], { hash: String, salt: String, N: Number, r: 8, p: 1 })
  t.equal(statSync(credentialsPath(dir)).mode & 0o777, 0o600)
  const store = createCredentialStore({ dataDir: dir })
  t.equal(await store.verifyMachine(4, 'machine-secret'), true)
  t.equal(await store.verifyMachine(4, 'machine-secret'), true, 'again (cached)')
  t.equal(await store.verifyMachine(4, 'nope'), false)
  t.equal(await store.verifyMachine(5, 'machine-secret'), false, 'unknown machine')
  t.equal(await store.verifyNode('kiosk_interface', 'node-secret'), 'kiosk')
  t.equal(await store.verifyNode('kiosk_interface', 'machine-secret'), undefined)
  const same = await Promise.all(Array.from({ length: 20 }, () => store.verifyMachine(4, 'machine-secret')))
  t.ok(same.every(Boolean), '20 concurrent checks of one secret all pass')
})

t.test('a change of the file is seen at the next check; cached results never outlive it', async (t) => {
  const dir = t.testdir()
  const store = createCredentialStore({ dataDir: dir })
  t.equal(await store.verifyMachine(3, 'x'), false, 'no file yet')
  await addMachine(dir, 3, 'x')
  t.equal(await store.verifyMachine(3, 'x'), true, 'added while running')
  await addMachine(dir, 3, 'y')
  t.equal(await store.verifyMachine(3, 'x'), false, 'a cached success ends with a rotation')
  t.equal(await store.verifyMachine(3, 'y'), true)
  const file = readCredentials(credentialsPath(dir))
  delete file.machines['3']
  writeCredentials(credentialsPath(dir), file)
  t.equal(await store.verifyMachine(3, 'y'), false, 'removed')
})

t.test('an unreadable file keeps the last good credentials and says so', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  const errors: string[] = []
  const log = pino({ level: 'error' }, { write: (line: string) => errors.push(line) })
  const store = createCredentialStore({ dataDir: dir, log })
  t.equal(await store.verifyMachine(1, 's1'), true)
  writeFileSync(credentialsPath(dir), '{ half a file')
  t.equal(await store.verifyMachine(1, 's1'), true, 'still the last good file')
  t.match(errors.join(''), /credentials file unreadable/)
})

t.test('API tokens: looked up by name, SHA-256 stored, malformed ones refused', async (t) => {
  const dir = t.testdir()
  const token = newApiToken('front_desk')
  const file = readCredentials(credentialsPath(dir))
  file.tokens.front_desk = { sha256: sha256(token), role: 'kiosk', created_at: new Date().toISOString() }
  writeCredentials(credentialsPath(dir), file)
  const store = createCredentialStore({ dataDir: dir })
  t.match(token, /^dh_front_desk_[A-Za-z0-9_-]{43}$/)
  t.same(store.verifyApiToken(token), { name: 'front_desk', role: 'kiosk' })
  for (const bad of ['', 'dh_', 'dh_front_desk_', token + 'x', token.replace('front_desk', 'front_dusk'), `Bearer ${token}`]) {
    t.equal(store.verifyApiToken(bad), undefined, `refused: ${JSON.stringify(bad.slice(0, 30))}`)
  }
})

t.test('an ephemeral machine secret works in memory only', async (t) => {
  const dir = t.testdir()
  const store = createCredentialStore({ dataDir: dir })
  const secret = store.issueEphemeralMachineSecret(9)
  t.equal(await store.verifyMachine(9, secret), true)
  t.equal(await store.verifyMachine(9, secret + 'x'), false)
  t.equal(await store.verifyMachine(8, secret), false, 'for that machine only')
  t.notOk(existsSync(credentialsPath(dir)), 'nothing written')
  t.equal(await createCredentialStore({ dataDir: dir }).verifyMachine(9, secret), false, 'gone with the process')
})

t.test('admin token: generated once, 0600, kept; HUB_ADMIN_TOKEN wins; an empty file is replaced', async (t) => {
  const dir = t.testdir()
  const config = loadConfig({ HUB_DATA_DIR: dir, HUB_TIMEZONE: 'UTC' })
  const first = await ensureAdminToken({ config, log: silent })
  t.ok(first.length >= 32)
  t.equal(statSync(join(dir, 'admin-token')).mode & 0o777, 0o600)
  t.equal(await ensureAdminToken({ config, log: silent }), first, 'the same on the next start')
  const fixed = loadConfig({ HUB_DATA_DIR: dir, HUB_TIMEZONE: 'UTC', HUB_ADMIN_TOKEN: 'from-the-environment-1234' })
  t.equal(await ensureAdminToken({ config: fixed, log: silent }), 'from-the-environment-1234')
  writeFileSync(join(dir, 'admin-token'), '\n', { mode: 0o644 })
  const fresh = await ensureAdminToken({ config, log: silent })
  t.not(fresh, first)
  t.ok(fresh.length >= 32, 'a new token after a torn write')
  t.equal(statSync(join(dir, 'admin-token')).mode & 0o777, 0o600)
})

// Issue 10 defect 1: `tokens[name]` on a plain object found `constructor` and threw in verifyApiToken.
const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']

t.test('names inherited from Object.prototype are simply unknown: no throw, no match', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  await addNode(dir, 'kiosk_interface', 'kiosk', 'ks')
  const store = createCredentialStore({ dataDir: dir })
  for (const name of INHERITED) {
    t.equal(store.verifyApiToken(`dh_${name}_${'A'.repeat(43)}`), undefined, `token dh_${name}_…`)
    t.equal(await store.verifyNode(name, 'x'), undefined, `node ${name}`)
  }
  t.equal(await store.verifyNode('kiosk_interface', 'ks'), 'kiosk', 'real names still work')
})

t.test('a file really holding such names keeps them as plain entries', async (t) => {
  const dir = t.testdir()
  const token = newApiToken('constructor')
  writeFileSync(
    credentialsPath(dir),
    `{"version":1,"machines":{},"nodes":{},"tokens":{"__proto__":{"sha256":"${sha256('x')}","role":"admin","created_at":"t"},"constructor":{"sha256":"${sha256(token)}","role":"kiosk","created_at":"t"}}}`,
  )
  const file = readCredentials(credentialsPath(dir))
  t.same(Object.keys(file.tokens).sort(), ['__proto__', 'constructor'], 'own entries, the prototype untouched')
  t.notOk('toString' in file.tokens, 'sections have no prototype')
  const store = createCredentialStore({ dataDir: dir })
  t.same(store.verifyApiToken(token), { name: 'constructor', role: 'kiosk' })
  t.equal(store.verifyApiToken(`dh___proto___${'A'.repeat(43)}`), undefined, 'wrong secret for __proto__')
  writeCredentials(credentialsPath(dir), file)
  t.match(readFileSync(credentialsPath(dir), 'utf8'), /"__proto__"/, 'written back as a key')
})

t.test('a malformed file section is refused with its name', async (t) => {
  const dir = t.testdir()
  writeFileSync(credentialsPath(dir), '{"version":1,"tokens":[1,2]}')
  t.throws(() => readCredentials(credentialsPath(dir)), /"tokens" must be an object/)
  writeFileSync(credentialsPath(dir), '[]')
  t.throws(() => readCredentials(credentialsPath(dir)), /must hold a JSON object/)
})

t.test('a check throttled while it waited runs no scrypt and is not remembered', async (t) => {
  const dir = t.testdir()
  await addNode(dir, 'kiosk_interface', 'kiosk', 'ks')
  const store = createCredentialStore({ dataDir: dir })
  t.equal(await store.verifyNode('kiosk_interface', 'ks', { shouldRun: () => false }), undefined, 'skipped: refused')
  t.equal(await store.verifyNode('kiosk_interface', 'ks', { shouldRun: () => true }), 'kiosk', 'the skip was not cached as a refusal')
})
