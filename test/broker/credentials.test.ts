import t from 'tap'
import * as crypto from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/index.js'
import { ensureAdminToken } from '../../src/broker/admin-token.js'
import { apiTokenEntry, createCredentialStore, credentialsPath, emptyCredentials, hashSecret, newApiToken, readCredentials, writeCredentials, type SecretHash } from '../../src/broker/credentials.js'
import { addMachine, addNode } from '../helpers/broker.js'

const silent = pino({ level: 'silent' })

t.test('secrets are stored as salted HMAC-SHA-256, and verified', async (t) => {
  const dir = t.testdir()
  await addMachine(dir, 4, 'machine-secret')
  await addNode(dir, 'kiosk_interface', 'kiosk', 'node-secret')
  const text = readFileSync(credentialsPath(dir), 'utf8')
  t.notOk(text.includes('machine-secret') || text.includes('node-secret'), 'no secret in the file')
  const stored = JSON.parse(text).machines['4']
  t.match(stored, { alg: 'hmac-sha256', hash: String, salt: String, created_at: String })
  t.notOk('N' in stored, 'no scrypt parameters in a new entry')
  t.equal(Buffer.from(stored.salt, 'base64').length, 16, '16-byte salt')
  t.equal(Buffer.from(stored.hash, 'base64').length, 32, '32-byte digest')
  await addMachine(dir, 6, 'machine-secret')
  t.not(JSON.parse(readFileSync(credentialsPath(dir), 'utf8')).machines['6'].hash, stored.hash, 'the same secret hashes differently under another salt')
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
  file.tokens.front_desk = apiTokenEntry(token, 'kiosk')
  writeCredentials(credentialsPath(dir), file)
  const store = createCredentialStore({ dataDir: dir })
  t.match(token, /^dh_front_desk_[A-Za-z0-9_-]{43}$/)
  t.same(store.verifyApiToken(token), { name: 'front_desk', role: 'kiosk' })
  for (const bad of ['', 'dh_', 'dh_front_desk_', token + 'x', token.replace('front_desk', 'front_dusk'), `Bearer ${token}`]) {
    t.equal(store.verifyApiToken(bad), undefined, `refused: ${JSON.stringify(bad.slice(0, 30))}`)
  }
})

t.test('API tokens: a match is remembered only until the file changes (a rotated or removed token is refused at once)', async (t) => {
  const dir = t.testdir()
  const path = credentialsPath(dir)
  const first = newApiToken('lobby')
  const file = readCredentials(path)
  file.tokens.lobby = apiTokenEntry(first, 'kiosk')
  writeCredentials(path, file)
  const store = createCredentialStore({ dataDir: dir })
  t.same(store.verifyApiToken(first), { name: 'lobby', role: 'kiosk' })
  const answer = store.verifyApiToken(first)!
  t.same(answer, { name: 'lobby', role: 'kiosk' }, 'again (remembered)')
  ;(answer as { role: string }).role = 'admin'
  t.same(store.verifyApiToken(first), { name: 'lobby', role: 'kiosk' }, 'a caller changing its answer changes nothing remembered')
  const rotated = newApiToken('lobby')
  file.tokens.lobby = apiTokenEntry(rotated, 'reservation')
  writeCredentials(path, file)
  t.equal(store.verifyApiToken(first), undefined, 'the old token, right after the rotation')
  t.same(store.verifyApiToken(rotated), { name: 'lobby', role: 'reservation' }, 'the new one, with the role as now written')
  delete file.tokens.lobby
  writeCredentials(path, file)
  t.equal(store.verifyApiToken(rotated), undefined, 'removed')
  t.equal(store.verifyApiToken(first), undefined)
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
    `{"version":1,"machines":{},"nodes":{},"tokens":{"__proto__":{"sha256":"${apiTokenEntry('x', 'admin').sha256}","role":"admin","created_at":"t"},"constructor":{"sha256":"${apiTokenEntry(token, 'kiosk').sha256}","role":"kiosk","created_at":"t"}}}`,
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

// Issue 17: entries written before the change to HMAC-SHA-256, exactly as the CLI wrote them then
// (scrypt N=2^12, r=8, p=1; made with that version's hashSecret), must keep working on upgrade.
const LEGACY_SECRET = 'legacy-secret-made-before-issue-17'
const LEGACY_ENTRY = { hash: 'qAVk7luv5oos6m5w6KBzZly/2kO1ZKjx4+NjRLR0Ux4=', salt: 'nkTWax2gz7FFZaLt36UkDg==', N: 4096, r: 8, p: 1, created_at: '2026-12-01T19:54:24.645Z' }

function writeEntries(dir: string, machines: Record<string, unknown>, nodes: Record<string, unknown> = {}) {
  const file = emptyCredentials()
  Object.assign(file.machines, machines)
  Object.assign(file.nodes, nodes)
  writeCredentials(credentialsPath(dir), file)
}

t.test('an old scrypt entry still authenticates, and the hub leaves it as it is', async (t) => {
  const dir = t.testdir()
  writeEntries(dir, { 7: LEGACY_ENTRY }, { kiosk_interface: { ...LEGACY_ENTRY, role: 'kiosk' } })
  const before = readFileSync(credentialsPath(dir), 'utf8')
  const store = createCredentialStore({ dataDir: dir })
  t.equal(await store.verifyMachine(7, LEGACY_SECRET), true, 'machine with an old entry')
  t.equal(await store.verifyMachine(7, LEGACY_SECRET), true, 'again (cached)')
  t.equal(await store.verifyMachine(7, LEGACY_SECRET + 'x'), false, 'a wrong secret is refused')
  t.equal(await store.verifyMachine(7, LEGACY_SECRET.slice(1)), false, 'a shorter one too')
  t.equal(await store.verifyNode('kiosk_interface', LEGACY_SECRET), 'kiosk', 'node with an old entry')
  t.equal(await store.verifyNode('kiosk_interface', 'nope'), undefined)
  t.equal(readFileSync(credentialsPath(dir), 'utf8'), before, 'the file is not rewritten (the CLI owns it)')
  // a rotation by the CLI writes the new format; the old secret stops working at once
  await addMachine(dir, 7, 'rotated-secret')
  t.equal(readCredentials(credentialsPath(dir)).machines['7']!.hash === LEGACY_ENTRY.hash, false)
  t.equal(await store.verifyMachine(7, LEGACY_SECRET), false, 'the old secret after rotation')
  t.equal(await store.verifyMachine(7, 'rotated-secret'), true, 'the new one')
})

t.test('a wrong secret is refused for a new entry, however close', async (t) => {
  const dir = t.testdir()
  writeEntries(dir, { 1: await hashSecret('right-secret') })
  const store = createCredentialStore({ dataDir: dir })
  for (const wrong of ['', 'right-secreT', 'right-secret ', 'right-secre', 'right-secret\u0000', 'x'.repeat(10_000)]) {
    t.equal(await store.verifyMachine(1, wrong), false, `refused: ${JSON.stringify(wrong.slice(0, 20))}`)
  }
  t.equal(await store.verifyMachine(1, 'right-secret'), true)
})

t.test('a tampered entry is refused, never thrown on, and costs no runaway scrypt', async (t) => {
  const dir = t.testdir()
  const good = (await hashSecret('s')) as SecretHash & { alg: string }
  const flip = (b64: string) => {
    const bytes = Buffer.from(b64, 'base64')
    bytes[0] = bytes[0]! ^ 1
    return bytes.toString('base64')
  }
  const tampered: Record<string, unknown> = {
    1: { ...good, hash: flip(good.hash) },
    2: { ...good, salt: flip(good.salt) },
    3: { ...good, hash: good.hash.slice(0, 20) },
    4: { ...good, hash: Buffer.concat([Buffer.from(good.hash, 'base64'), Buffer.alloc(1)]).toString('base64') },
    5: { ...good, alg: 'sha1' },
    6: { ...good, alg: undefined, hash: good.hash },
    7: { ...good, hash: 42 },
    8: { ...LEGACY_ENTRY, hash: flip(LEGACY_ENTRY.hash) },
    9: { ...LEGACY_ENTRY, N: 2 ** 30 },
    10: { ...LEGACY_ENTRY, N: 1000 },
    11: { ...LEGACY_ENTRY, r: -1 },
    12: { ...LEGACY_ENTRY, hash: Buffer.alloc(10_000_000 / 4).toString('base64') },
    13: { ...LEGACY_ENTRY, hash: '' },
    14: null,
    15: 'a string',
  }
  writeEntries(dir, tampered)
  const store = createCredentialStore({ dataDir: dir })
  for (const id of Object.keys(tampered)) {
    t.equal(await store.verifyMachine(Number(id), id === '8' || Number(id) >= 9 ? LEGACY_SECRET : 's'), false, `entry ${id} refused`)
  }
})

t.test('digests are compared with timingSafeEqual, on equal lengths only', async (t) => {
  const calls: Array<[number, number]> = []
  const mocked = await t.mockImport<typeof import('../../src/broker/credentials.js')>('../../src/broker/credentials.js', {
    'node:crypto': {
      ...crypto,
      timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
        calls.push([a.byteLength, b.byteLength])
        return crypto.timingSafeEqual(a, b)
      },
    },
  })
  const dir = t.testdir()
  const good = await mocked.hashSecret('s')
  writeEntries(dir, { 1: good, 2: LEGACY_ENTRY, 3: { ...good, hash: good.hash.slice(0, 20) } })
  const store = mocked.createCredentialStore({ dataDir: dir })
  t.equal(await store.verifyMachine(1, 's'), true)
  t.equal(await store.verifyMachine(1, 't'), false)
  t.same(calls, [[32, 32], [32, 32]], 'new entries: one constant-time compare of 32 bytes per check, right or wrong')
  calls.length = 0
  t.equal(await store.verifyMachine(2, LEGACY_SECRET), true)
  t.equal(await store.verifyMachine(2, 'wrong'), false)
  t.same(calls, [[32, 32], [32, 32]], 'old scrypt entries too')
  calls.length = 0
  t.equal(await store.verifyMachine(3, 's'), false, 'a digest of another length is refused')
  t.same(calls, [], 'without comparing (timingSafeEqual would throw on unequal lengths)')
})
