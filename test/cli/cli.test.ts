import t from 'tap'
import { readFileSync, statSync } from 'node:fs'
import { run } from '../../src/cli.js'
import { createCredentialStore, credentialsPath } from '../../src/broker/credentials.js'

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
