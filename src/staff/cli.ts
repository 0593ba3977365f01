/**
 * `user add NAME --role R [--password P]`, `user list`, `user remove NAME`, `user passwd NAME
 * [--password P]`, `user sign-out NAME`: staff users in users.json, changed while the hub runs
 * (the hub re-reads the file). Without --password the password is asked twice on the terminal,
 * not echoed; from a pipe, the first line of stdin is the password.
 */
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { isStaffRole, StaffRoles } from '../protocol/permissions.js'
import { readUsers, usersPath } from './users-file.js'
import { changeUser, type UserChange } from './users.js'

export class StaffUsageError extends Error {}

export interface UserCommand {
  action: string | undefined
  name: string | undefined
  role: string | undefined
  password: string | undefined
  dataDir: string
  owner: { uid: number; gid: number } | undefined
  /** asks for a password (tests pass their own) */
  prompt?: (question: string) => Promise<string>
}

/** Reads a line without echo on a TTY; from a pipe, reads the next line. */
export async function promptPassword(question: string): Promise<string> {
  const muted = new Writable({ write: (_chunk, _enc, done) => done() })
  const tty = process.stdin.isTTY === true
  if (tty) process.stderr.write(question)
  const rl = createInterface({ input: process.stdin, output: tty ? muted : undefined, terminal: tty })
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve)
      rl.once('close', () => reject(new StaffUsageError('no password given (use --password or type it)')))
    })
  } finally {
    rl.close()
    if (tty) process.stderr.write('\n')
  }
}

async function passwordFor(cmd: UserCommand): Promise<string> {
  if (cmd.password !== undefined) return cmd.password
  const ask = cmd.prompt ?? promptPassword
  const first = await ask(`password for ${cmd.name}: `)
  if (cmd.prompt === undefined && process.stdin.isTTY !== true) return first
  const again = await ask('again: ')
  if (again !== first) throw new StaffUsageError('the passwords differ')
  return first
}

export async function runUserCommand(cmd: UserCommand, out: (line: string) => void): Promise<void> {
  const path = usersPath(cmd.dataDir)
  if (cmd.action === 'list') {
    const users = [...readUsers(path).users.values()].sort((a, b) => a.username.localeCompare(b.username))
    if (users.length === 0) out('no users')
    for (const u of users) out(`${u.username}\t${u.role}\t${new Date(u.created_at * 1000).toISOString()}`)
    return
  }
  const name = cmd.name
  if (!name) throw new StaffUsageError(`user ${cmd.action ?? ''}: a name is required`)
  if (cmd.role !== undefined && cmd.action !== 'add' && cmd.action !== 'role') throw new StaffUsageError(`user ${cmd.action} takes no --role`)
  let change: UserChange
  switch (cmd.action) {
    case 'add': {
      if (!isStaffRole(cmd.role)) throw new StaffUsageError(`user add: --role must be one of ${StaffRoles.join(', ')}`)
      change = { kind: 'add', username: name, role: cmd.role, password: await passwordFor(cmd) }
      break
    }
    case 'role':
      if (!isStaffRole(cmd.role)) throw new StaffUsageError(`user role: --role must be one of ${StaffRoles.join(', ')}`)
      change = { kind: 'role', username: name, role: cmd.role }
      break
    case 'passwd':
      change = { kind: 'password', username: name, password: await passwordFor(cmd) }
      break
    case 'remove':
      change = { kind: 'remove', username: name }
      break
    case 'sign-out':
      change = { kind: 'sign-out', username: name }
      break
    default:
      throw new StaffUsageError(`unknown action "${cmd.action ?? ''}": use add, list, passwd, role, sign-out or remove`)
  }
  const outcome = await changeUser(change, { path, now: Date.now(), actor: 'node:cli', owner: cmd.owner })
  if (!outcome.ok) throw new StaffUsageError(`user ${cmd.action}: ${outcome.message}`)
  const user = outcome.value.user
  const said = { add: 'added', role: 'changed role of', passwd: 'set a new password for', remove: 'removed', 'sign-out': 'signed out' }[cmd.action]
  out(`${said} user ${name}${user ? ` (role ${user.role})` : ''}`)
}
