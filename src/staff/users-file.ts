/**
 * Staff users in `${dataDir}/users.json` (mode 0600), next to credentials.json and for the same
 * reason: the CLI must add a user while the hub runs, and LevelDB admits one process. Every
 * change rewrites the file atomically (temp file, fsync, rename, fsync of the dir) under a lock
 * file, and carries its own journal entry in the same write, so a change and its record exist
 * together or not at all; the hub copies new journal entries into the audit log (audit/).
 * Names are looked up in a Map, never on a plain object (`__proto__` is not a user).
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { lockFile, replaceFileDurably } from '../lib/durable-file.js'
import { isStaffRole, type StaffRole } from '../protocol/permissions.js'
import { isPasswordHash, type PasswordHash } from './passwords.js'

export interface StaffUser {
  username: string
  role: StaffRole
  password: PasswordHash
  created_at: number
  updated_at: number
  /** sign-ins older than this (epoch s) are void: "sign out everywhere", password change, role change */
  signed_out_at: number
}

/** One change as the file records it; `id` is unique per file (time-ordered). */
export interface UserJournalEntry {
  id: string
  at: number
  /** actor label (protocol/actor.ts): `staff:alice`, `token:admin_portal`, `node:cli` */
  actor: string
  kind: 'staff.added' | 'staff.removed' | 'staff.role' | 'staff.password' | 'staff.signed_out'
  target: string
  before: { role: StaffRole } | null
  after: { role: StaffRole } | null
}

export interface UsersFile {
  users: Map<string, StaffUser>
  journal: UserJournalEntry[]
}

/** Journal entries kept in the file: enough for the hub to copy them after any outage of a CLI burst. */
const JOURNAL_KEPT = 1000
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,31}$/

export function usersPath(dataDir: string): string {
  return join(dataDir, 'users.json')
}

/** Why `name` can't be a username, or undefined. */
export function usernameProblem(name: string): string | undefined {
  return USERNAME_PATTERN.test(name) ? undefined : 'must be 1-32 of a-z 0-9 _ . - (lower case), starting with a letter or digit'
}

function parseUser(name: string, value: unknown): StaffUser | undefined {
  const v = value as Partial<StaffUser> | null
  if (!USERNAME_PATTERN.test(name) || typeof v !== 'object' || v === null) return undefined
  if (!isStaffRole(v.role) || !isPasswordHash(v.password)) return undefined
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0)
  return { username: name, role: v.role, password: v.password, created_at: num(v.created_at), updated_at: num(v.updated_at), signed_out_at: num(v.signed_out_at) }
}

export function readUsers(path: string): UsersFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { users: new Map(), journal: [] }
    throw error
  }
  let parsed: { users?: unknown; journal?: unknown }
  try {
    parsed = JSON.parse(text) as typeof parsed
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}); restore it or move it away`)
  }
  const users = new Map<string, StaffUser>()
  if (parsed.users && typeof parsed.users === 'object') {
    for (const [name, value] of Object.entries(parsed.users)) {
      const user = parseUser(name, value)
      if (user) users.set(name, user)
    }
  }
  const journal = Array.isArray(parsed.journal) ? (parsed.journal as UserJournalEntry[]).filter((e) => e && typeof e.id === 'string') : []
  return { users, journal }
}

export function writeUsers(path: string, file: UsersFile, owner?: { uid: number; gid: number }): void {
  const body = {
    version: 1,
    users: Object.fromEntries([...file.users].map(([name, { username: _, ...rest }]) => [name, rest])),
    journal: file.journal.slice(-JOURNAL_KEPT),
  }
  replaceFileDurably(path, JSON.stringify(body, null, 2) + '\n', owner)
}

/** mtime, inode and size: changes whenever the CLI or the hub rewrote the file. */
export function fileStamp(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false })
  return st ? `${st.mtimeMs}:${st.ino}:${st.size}` : 'none'
}

/** An exclusive lock file (O_EXCL) shared by the CLI and the hub; waits up to 10 s. */
export const lockUsers = (path: string): Promise<() => void> => lockFile(`${path}.lock`)

/** Time-ordered, unique within one process and (with the pid) across the CLI and the hub. */
export { journalId } from '../lib/durable-file.js'
