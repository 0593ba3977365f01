import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { run } from '../../src/cli.js'
import { createCredentialStore, credentialsPath } from '../../src/broker/credentials.js'
import { startTestBroker } from '../helpers/broker.js'

async function cli(dir: string, ...args: string[]): Promise<string[]> {
  const lines: string[] = []
  await run(['--data-dir', dir, ...args], {}, (l) => lines.push(l))
  return lines
}
const secretOf = (lines: string[]) => lines.find((l) => l.includes('shown once'))!.split(': ').pop()!

t.test('add, list, rotate and remove machines; the secret is printed once and stored hashed', async (t) => {
  const dir = t.testdir()
  const added = await cli(dir, 'machine', 'add', '4')
  t.match(added[0], /added machine 4: username machine_004/)
  const secret = secretOf(added)
  t.ok(secret.length >= 24)
  const text = readFileSync(credentialsPath(dir), 'utf8')
  t.notOk(text.includes(secret), 'no secret in plain text')
  t.equal(statSync(credentialsPath(dir)).mode & 0o777, 0o600, 'file mode 0600')
  const store = createCredentialStore({ dataDir: dir })
  t.ok(await store.verifyMachine(4, secret))
  t.same(await cli(dir, 'machine', 'list'), [`machine_004\t${JSON.parse(text).machines['4'].created_at}`])
  await t.rejects(cli(dir, 'machine', 'add', 'machine_4'), /exists; use rotate/)

  const rotated = secretOf(await cli(dir, 'machine', 'rotate', '4'))
  t.not(rotated, secret)
  t.notOk(await store.verifyMachine(4, secret), 'old secret stops working at once')
  t.ok(await store.verifyMachine(4, rotated))
  t.same(await cli(dir, 'machine', 'remove', '4'), ['removed machine 4'])
  t.notOk(await store.verifyMachine(4, rotated))
})

t.test('nodes and API tokens carry roles', async (t) => {
  const dir = t.testdir()
  const node = secretOf(await cli(dir, 'node', 'add', 'kiosk_interface', '--role', 'kiosk'))
  const store = createCredentialStore({ dataDir: dir })
  t.equal(await store.verifyNode('kiosk_interface', node), 'kiosk')
  t.equal(await store.verifyNode('kiosk_interface', 'wrong'), undefined)
  const token = secretOf(await cli(dir, 'token', 'add', 'lobby', '--role', 'reservation'))
  t.same(store.verifyApiToken(token), { name: 'lobby', role: 'reservation' })
  t.equal(store.verifyApiToken(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')), undefined)
  const rotated = secretOf(await cli(dir, 'token', 'rotate', 'lobby'))
  t.equal(store.verifyApiToken(token), undefined)
  t.same(store.verifyApiToken(rotated), { name: 'lobby', role: 'reservation' }, 'rotate keeps the role')
})

t.test('bad input is refused with a clear message', async (t) => {
  const dir = t.testdir()
  await t.rejects(cli(dir, 'machine', 'add', 'x'), /not a machine id/)
  await t.rejects(cli(dir, 'node', 'add', 'kiosk'), /--role must be one of admin, kiosk, reservation/)
  await t.rejects(cli(dir, 'node', 'add', 'bad name', '--role', 'kiosk'), /letters, digits/)
  await t.rejects(cli(dir, 'gadget', 'add', '1'), /unknown kind/)
  await t.rejects(cli(dir, 'machine', 'fly', '1'), /unknown action/)
  await t.rejects(cli(dir, 'machine', 'remove', '9'), /does not exist/)
  t.match((await cli(dir, '--help')).join('\n'), /machine add <id>/)
})

t.test('more bad input: options, extra words, names that would reach other feeds', async (t) => {
  const dir = t.testdir()
  await t.rejects(cli(dir, 'machine', 'add', '5', '--bogus'), /Unknown option '--bogus'/)
  await t.rejects(cli(dir, 'machine', 'add', '5', '6'), /unexpected "6"/)
  await t.rejects(cli(dir, 'machine', 'add', '5', '--role', 'admin'), /takes no --role/)
  await t.rejects(cli(dir, 'machine'), /an action is required/)
  await t.rejects(cli(dir, 'node', 'add', 'admin', '--role', 'kiosk'), /would receive internal\/admin/)
  await t.rejects(cli(dir, 'node', 'add', 'machine_3', '--role', 'admin'), /machine name/)
  await t.rejects(cli(dir, 'token', 'add', 'x', '--role', 'root'), /--role must be one of/)
  t.notOk(existsSync(credentialsPath(dir)), 'nothing written by refused commands')
})

t.test('lists show names, roles and dates, never secrets; remove works for every kind', async (t) => {
  const dir = t.testdir()
  const node = secretOf(await cli(dir, 'node', 'add', 'golf_app', '--role', 'reservation'))
  const token = secretOf(await cli(dir, 'token', 'add', 'lobby', '--role', 'kiosk'))
  await cli(dir, 'machine', 'add', '12')
  await cli(dir, 'machine', 'add', 'machine_3')
  t.match(await cli(dir, 'machine', 'list'), [/^machine_003\t/, /^machine_012\t/], 'sorted by id')
  const nodes = await cli(dir, 'node', 'list')
  t.match(nodes, [/^golf_app\treservation\t\d{4}-/])
  const tokens = await cli(dir, 'token', 'list')
  t.match(tokens, [/^lobby\tkiosk\t/])
  t.notOk([...nodes, ...tokens].join('\n').includes(node) || tokens.join('\n').includes(token))
  t.notOk(readFileSync(credentialsPath(dir), 'utf8').includes(token.split('_').pop()!), 'token stored as a hash only')
  t.same(await cli(dir, 'node', 'remove', 'golf_app'), ['removed node golf_app'])
  t.same(await cli(dir, 'token', 'remove', 'lobby'), ['removed token lobby'])
  t.same(await cli(dir, 'node', 'list'), ['no nodes'])
})

t.test('a running broker uses what the CLI adds, rotates and removes, at the next connect', async (t) => {
  const dir = t.testdir()
  const b = await startTestBroker(dir)
  t.teardown(() => b.close())
  const login = (password: string) => ({ clientId: 'machine_007', username: 'machine_7', password, keepalive: 5 })
  t.match(String(await b.refusal(login('guess'))), /Bad username or password/i, 'unknown before')
  const first = secretOf(await cli(dir, 'machine', 'add', '7'))
  t.equal(await b.refusal(login(first)), undefined, 'added while running: accepted')
  const second = secretOf(await cli(dir, 'machine', 'rotate', '7'))
  t.match(String(await b.refusal(login(first))), /Bad username or password/i, 'old secret refused after rotate')
  t.equal(await b.refusal(login(second)), undefined)
  await cli(dir, 'machine', 'remove', '7')
  t.match(String(await b.refusal(login(second))), /Bad username or password/i, 'removed')
})

t.test('as a program: exit 0 with output, 2 with a message on stderr for bad input', async (t) => {
  const dir = t.testdir()
  const cliPath = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))
  const exec = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cliPath, ...args], { encoding: 'utf8', env: { ...process.env, HUB_DATA_DIR: dir } })
  const ok = exec('node', 'add', 'kiosk_interface', '--role', 'kiosk')
  t.equal(ok.status, 0, ok.stderr)
  t.match(ok.stdout, /added node kiosk_interface: username kiosk_interface \(role kiosk\)\nsecret \(shown once, not stored\): \S{32}\n/)
  const bad = exec('machine', 'add', 'zero')
  t.equal(bad.status, 2)
  t.match(bad.stderr, /not a machine id/)
  t.equal(bad.stdout, '')
  t.equal(exec('--help').status, 0)
})

t.test('CLIs run at the same time lose no entry', async (t) => {
  const dir = t.testdir()
  await Promise.all(Array.from({ length: 8 }, (_, i) => cli(dir, 'machine', 'add', String(i + 1))))
  const listed = await cli(dir, 'machine', 'list')
  t.equal(listed.length, 8, 'all eight machines stored')
})

t.test('inherited names (constructor, __proto__, toString) are ordinary names to the CLI', async (t) => {
  const dir = t.testdir()
  await t.rejects(cli(dir, 'token', 'remove', 'constructor'), /token constructor does not exist/, 'not found on the prototype')
  await t.rejects(cli(dir, 'node', 'rotate', 'toString'), /does not exist; use add/)
  await t.rejects(cli(dir, 'node', 'add', 'x', '--role', 'constructor'), /--role must be one of/)
  const token = secretOf(await cli(dir, 'token', 'add', '__proto__', '--role', 'kiosk'))
  t.same(createCredentialStore({ dataDir: dir }).verifyApiToken(token), { name: '__proto__', role: 'kiosk' }, 'stored as a key, not as a prototype')
  t.match((await cli(dir, 'token', 'list')).join('\n'), /^__proto__\tkiosk\t/)
  t.same(await cli(dir, 'token', 'remove', '__proto__'), ['removed token __proto__'])
  t.same(await cli(dir, 'token', 'list'), ['no tokens'])
})

t.test('user add/list/passwd/role/sign-out/remove; token role monitor; the password is never stored', async (t) => {
  const dir = t.testdir()
  const { readUsers, usersPath } = await import('../../src/staff/users-file.js')
  const { verifyPassword } = await import('../../src/staff/passwords.js')
  t.same(await cli(dir, 'user', 'add', 'alice', '--role', 'manager', '--password', 'password-alice'), ['added user alice (role manager)'])
  t.notOk(readFileSync(usersPath(dir), 'utf8').includes('password-alice'))
  t.equal(statSync(usersPath(dir)).mode & 0o777, 0o600)
  t.ok(await verifyPassword('password-alice', readUsers(usersPath(dir)).users.get('alice')!.password))
  await t.rejects(cli(dir, 'user', 'add', 'bob', '--role', 'boss', '--password', 'password-bob'), /--role must be one of manager, staff, viewer/)
  await t.rejects(cli(dir, 'user', 'add', 'bob', '--role', 'staff', '--password', 'short'), /password: must have at least 8 characters/)
  await t.rejects(cli(dir, 'user', 'add', 'alice', '--role', 'staff', '--password', 'password-x'), /alice exists/)
  await t.rejects(cli(dir, 'user', 'remove', 'alice'), /last manager/)
  t.same(await cli(dir, 'user', 'add', 'bob', '--role', 'staff', '--password', 'password-bob'), ['added user bob (role staff)'])
  t.match(await cli(dir, 'user', 'list'), [/^alice\tmanager\t\d{4}-/, /^bob\tstaff\t/])
  t.same(await cli(dir, 'user', 'passwd', 'bob', '--password', 'password-bob2'), ['set a new password for user bob (role staff)'])
  t.ok(await verifyPassword('password-bob2', readUsers(usersPath(dir)).users.get('bob')!.password))
  t.same(await cli(dir, 'user', 'role', 'bob', '--role', 'viewer'), ['changed role of user bob (role viewer)'])
  t.same(await cli(dir, 'user', 'sign-out', 'bob'), ['signed out user bob (role viewer)'])
  t.same(await cli(dir, 'user', 'remove', 'bob'), ['removed user bob'])
  t.match(readUsers(usersPath(dir)).journal.map((e) => [e.kind, e.target, e.actor]), [
    ['staff.added', 'alice', 'node:cli'], ['staff.added', 'bob', 'node:cli'], ['staff.password', 'bob', 'node:cli'],
    ['staff.role', 'bob', 'node:cli'], ['staff.signed_out', 'bob', 'node:cli'], ['staff.removed', 'bob', 'node:cli'],
  ])

  const monitor = await cli(dir, 'token', 'add', 'prometheus', '--role', 'monitor')
  t.match(monitor[0], /added token prometheus: role monitor/)
  const token = secretOf(monitor)
  t.same(createCredentialStore({ dataDir: dir }).verifyApiToken(token), { name: 'prometheus', role: 'monitor' })
  await t.rejects(cli(dir, 'node', 'add', 'prom', '--role', 'monitor'), /--role must be one of admin, kiosk, reservation/, 'monitor is an HTTP token role only')
})

t.test('user add asks for the password on stdin when --password is not given', async (t) => {
  const dir = t.testdir()
  const cliPath = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))
  const res = spawnSync(process.execPath, ['--import', 'tsx', cliPath, '--data-dir', dir, 'user', 'add', 'carol', '--role', 'staff'], { input: 'password-carol\n', encoding: 'utf8' })
  t.equal(res.status, 0, res.stderr)
  t.match(res.stdout, /added user carol \(role staff\)/)
  const { readUsers, usersPath } = await import('../../src/staff/users-file.js')
  const { verifyPassword } = await import('../../src/staff/passwords.js')
  t.ok(await verifyPassword('password-carol', readUsers(usersPath(dir)).users.get('carol')!.password))
})
