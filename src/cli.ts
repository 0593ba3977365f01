#!/usr/bin/env node
/**
 * `node dist/cli.js <machine|node|token> <add|list|rotate|remove> ...`: manage the credentials of
 * dispensers, interface nodes and API tokens in `${HUB_DATA_DIR}/credentials.json`; `user ...`
 * manages staff users in `users.json` (src/staff/cli.ts). Works while
 * the hub runs (it re-reads the file). A new secret is printed once and never stored.
 */
import { mkdirSync, realpathSync, statSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import {
  credentialsPath,
  hashSecret,
  apiTokenEntry,
  newApiToken,
  newSecret,
  readCredentials,
  writeCredentials,
  journalCredentialChange,
  type CredentialFile,
} from './broker/credentials.js'
import { nodeNameProblem, ROLES, type Role } from './protocol/identity.js'
import { ApiTokenRoles } from './protocol/permissions.js'
import { isValidNodeName, machineIdFromNode, machineNodeName } from './protocol/topics.js'
import { runUserCommand, StaffUsageError } from './staff/cli.js'
import { lockFile } from './lib/durable-file.js'

const USAGE = `usage: dispenser-hub-cli [--data-dir DIR] <kind> <action> [name] [--role ROLE]

  machine add <id>                 create a dispenser's MQTT secret (username machine_<id>)
  machine rotate <id>              replace it (the old one stops working at once)
  machine remove <id> | list
  node add <name> --role R         an interface node's MQTT login (R: ${ROLES.join(', ')})
  node rotate <name> | remove <name> | list
  token add <name> --role R        an HTTP API bearer token (R: ${ApiTokenRoles.join(', ')};
                                   monitor reads /metrics and /api/health only)
  token rotate <name> | remove <name> | list
  user add <name> --role R [--password P]   a staff user for the admin page (R: manager, staff,
                                   viewer); the password is asked for unless --password is given
  user passwd <name> [--password P] | role <name> --role R | sign-out <name> | remove <name> | list

The data dir is --data-dir, else HUB_DATA_DIR, else ./data.`

class UsageError extends Error {}

type Kind = 'machine' | 'node' | 'token'
const SECTION = { machine: 'machines', node: 'nodes', token: 'tokens' } as const

function keyFor(kind: Kind, name: string | undefined): string {
  if (!name) throw new UsageError(`${kind}: a ${kind === 'machine' ? 'machine id' : 'name'} is required`)
  if (kind === 'machine') {
    const id = /^\d+$/.test(name) ? Number(name) : machineIdFromNode(name)
    if (!id || id < 1 || id > 9999) throw new UsageError(`machine: "${name}" is not a machine id (1-9999 or machine_N)`)
    return String(id)
  }
  if (!isValidNodeName(name)) throw new UsageError(`${kind}: "${name}" may use letters, digits, _ . - only (max 64)`)
  return name
}

function roleOf(value: string | undefined, kind: Kind): Role {
  const roles: readonly string[] = kind === 'token' ? ApiTokenRoles : ROLES
  if (!value || !roles.includes(value)) throw new UsageError(`${kind} add: --role must be one of ${roles.join(', ')}`)
  return value as Role
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'data-dir': { type: 'string' }, role: { type: 'string' }, password: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    })
  } catch (error) {
    throw new UsageError((error as Error).message) // unknown option, missing value
  }
}

/** When root runs the CLI on the service user's data dir, the file must stay readable by the hub. */
function ownerFor(dataDir: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const st = statSync(dataDir)
  return st.uid === 0 ? undefined : { uid: st.uid, gid: st.gid }
}

export async function run(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<void> {
  const { values, positionals } = parse(argv)
  if (values.help || positionals.length === 0) return out(USAGE)
  const [kindText, action, name, ...extra] = positionals
  if (kindText === 'user') {
    if (extra.length > 0 || (action === 'list' && name !== undefined)) throw new UsageError(`user ${action}: unexpected "${(action === 'list' ? [name, ...extra] : extra).join(' ')}"`)
    const dataDir = values['data-dir'] ?? env.HUB_DATA_DIR ?? './data'
    mkdirSync(dataDir, { recursive: true, mode: 0o750 })
    try {
      return await runUserCommand({ action, name, role: values.role, password: values.password, dataDir, owner: ownerFor(dataDir) }, out)
    } catch (error) {
      if (error instanceof StaffUsageError) throw new UsageError(error.message)
      throw error
    }
  }
  if (values.password !== undefined) throw new UsageError('--password is for user add and user passwd')
  if (kindText !== 'machine' && kindText !== 'node' && kindText !== 'token') throw new UsageError(`unknown kind "${kindText}": use machine, node, token or user`)
  const kind: Kind = kindText
  if (action === undefined) throw new UsageError(`${kind}: an action is required: add, list, rotate or remove`)
  if (extra.length > 0 || (action === 'list' && name !== undefined)) throw new UsageError(`${kind} ${action}: unexpected "${(action === 'list' ? [name, ...extra] : extra).join(' ')}"`)
  if (values.role !== undefined && (kind === 'machine' || action === 'list' || action === 'remove')) {
    throw new UsageError(`${kind} ${action} takes no --role`)
  }
  const dataDir = values['data-dir'] ?? env.HUB_DATA_DIR ?? './data'
  mkdirSync(dataDir, { recursive: true, mode: 0o750 })
  const path = credentialsPath(dataDir)
  const owner = ownerFor(dataDir)
  // Two CLIs provisioning at once would each rewrite the file and lose the other's entry.
  const unlock = await lockFile(`${path}.lock`)
  try {
    await change({ kind, action, name, role: values.role }, path, owner, out)
  } finally {
    unlock()
  }
}


interface ChangeRequest {
  kind: Kind
  action: string | undefined
  name: string | undefined
  role: string | undefined
}

async function change(request: ChangeRequest, path: string, owner: ReturnType<typeof ownerFor>, out: (line: string) => void): Promise<void> {
  const { kind, action, name } = request
  const values = { role: request.role }
  const file = readCredentials(path)
  const section = file[SECTION[kind]] as Record<string, { role?: Role; created_at: string }>

  switch (action) {
    case 'list': {
      const keys = Object.keys(section).sort((a, b) => (kind === 'machine' ? Number(a) - Number(b) : a.localeCompare(b)))
      if (keys.length === 0) out(`no ${SECTION[kind]}`)
      for (const key of keys) {
        const entry = section[key]!
        out([kind === 'machine' ? machineNodeName(Number(key)) : key, entry.role ?? '', entry.created_at].filter(Boolean).join('\t'))
      }
      return
    }
    case 'add':
    case 'rotate': {
      const key = keyFor(kind, name)
      const exists = key in section
      if (action === 'add' && exists) throw new UsageError(`${kind} ${key} exists; use rotate to replace its secret`)
      if (action === 'rotate' && !exists) throw new UsageError(`${kind} ${key} does not exist; use add`)
      const role = kind === 'machine' ? undefined : action === 'rotate' && !values.role ? section[key]!.role! : roleOf(values.role, kind)
      const problem = kind === 'node' && role ? nodeNameProblem(key, role) : undefined
      if (problem) throw new UsageError(`node ${action}: ${problem}`)
      const before = exists ? roleView(section[key]!.role) : null
      const secret = await store(file, kind, key, role)
      journalCredentialChange(file, { actor: CLI_ACTOR, kind: action === 'add' ? 'credential.added' : 'credential.rotated', target: targetOf(kind, key), before, after: roleView(role) })
      writeCredentials(path, file, owner)
      const login = kind === 'machine' ? `username ${machineNodeName(Number(key))}` : kind === 'node' ? `username ${key} (role ${role})` : `role ${role}`
      out(`${action === 'add' ? 'added' : 'rotated'} ${kind} ${key}: ${login}`)
      out(`${kind === 'token' ? 'token' : 'secret'} (shown once, not stored): ${secret}`)
      return
    }
    case 'remove': {
      const key = keyFor(kind, name)
      if (!(key in section)) throw new UsageError(`${kind} ${key} does not exist`)
      const before = roleView(section[key]!.role)
      delete section[key]
      journalCredentialChange(file, { actor: CLI_ACTOR, kind: 'credential.removed', target: targetOf(kind, key), before, after: null })
      writeCredentials(path, file, owner)
      out(`removed ${kind} ${key}`)
      return
    }
    default:
      throw new UsageError(`unknown action "${action ?? ''}": use add, list, rotate or remove`)
  }
}

/** Who the audit log names for a change made on the Pi's command line. */
const CLI_ACTOR = 'node:cli'
const targetOf = (kind: Kind, key: string) => `${kind}:${key}`
/** What the journal keeps of an entry: its role, never its secret or hash. */
const roleView = (role: Role | undefined): { role?: string } => (role === undefined ? {} : { role })

async function store(file: CredentialFile, kind: Kind, key: string, role: Role | undefined): Promise<string> {
  if (kind === 'token') {
    const token = newApiToken(key)
    file.tokens[key] = apiTokenEntry(token, role!)
    return token
  }
  const secret = newSecret()
  const hash = await hashSecret(secret)
  if (kind === 'machine') file.machines[key] = hash
  else file.nodes[key] = { ...hash, role: role! }
  return secret
}

const entry = process.argv[1] ? pathToFileURL(realpathSync(process.argv[1])).href : ''
if (entry === import.meta.url) {
  run(process.argv.slice(2), process.env, (line) => process.stdout.write(line + '\n')).catch((error: unknown) => {
    process.stderr.write(`dispenser-hub-cli: ${(error as Error).message}\n`)
    if (error instanceof UsageError) process.stderr.write(`run with --help for usage\n`)
    process.exit(error instanceof UsageError ? 2 : 1)
  })
}
