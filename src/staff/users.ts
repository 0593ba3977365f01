/**
 * Changes to staff users, shared by the CLI and the hub (admin page): each one re-reads
 * users.json under its lock, changes it, appends its journal entry and writes it back in one
 * atomic write. Refusals are values with a code, never half-done writes.
 */
import { err, ok, type Result } from '../lib/result.js'
import type { StaffRole } from '../protocol/permissions.js'
import { hashPassword, passwordProblem } from './passwords.js'
import { journalId, lockUsers, readUsers, usernameProblem, writeUsers, type StaffUser, type UserJournalEntry, type UsersFile } from './users-file.js'

export type StaffErrorCode = 'STAFF_INVALID' | 'STAFF_EXISTS' | 'STAFF_NOT_FOUND' | 'STAFF_LAST_MANAGER'

export type UserChange =
  | { kind: 'add'; username: string; role: StaffRole; password: string }
  | { kind: 'remove'; username: string }
  | { kind: 'role'; username: string; role: StaffRole }
  | { kind: 'password'; username: string; password: string }
  | { kind: 'sign-out'; username: string }

export interface ChangeContext {
  path: string
  /** epoch ms */
  now: number
  /** actor label of who asks */
  actor: string
  owner?: { uid: number; gid: number } | undefined
}

/** What a user looks like outside (no hash). */
export interface StaffUserView {
  username: string
  role: StaffRole
  created_at: number
  updated_at: number
}

export function viewOf(user: StaffUser): StaffUserView {
  return { username: user.username, role: user.role, created_at: user.created_at, updated_at: user.updated_at }
}

function managers(file: UsersFile): number {
  return [...file.users.values()].filter((u) => u.role === 'manager').length
}

/** Checks what can be checked before the (slow) hash and the lock. */
function precheck(change: UserChange): Result<void, StaffErrorCode> {
  const nameProblem = usernameProblem(change.username)
  if (nameProblem) return err('STAFF_INVALID', `username: ${nameProblem}`, 'username')
  if (change.kind === 'add' || change.kind === 'password') {
    const problem = passwordProblem(change.password)
    if (problem) return err('STAFF_INVALID', `password: ${problem}`, 'password')
  }
  return ok(undefined)
}

export async function changeUser(change: UserChange, ctx: ChangeContext): Promise<Result<{ user: StaffUserView | null; entry: UserJournalEntry }, StaffErrorCode>> {
  const checked = precheck(change)
  if (!checked.ok) return checked
  const hash = change.kind === 'add' || change.kind === 'password' ? await hashPassword(change.password) : undefined
  const unlock = await lockUsers(ctx.path)
  try {
    const file = readUsers(ctx.path)
    const nowS = Math.floor(ctx.now / 1000)
    const name = change.username
    const current = file.users.get(name)
    if (change.kind === 'add' && current) return err('STAFF_EXISTS', `username: ${name} exists`, 'username')
    if (change.kind !== 'add' && !current) return err('STAFF_NOT_FOUND', `username: no staff user ${name}`, 'username')
    // A venue must keep someone who can manage staff (the admin token also can, but it is for bootstrap).
    const losesManager = current?.role === 'manager' && (change.kind === 'remove' || (change.kind === 'role' && change.role !== 'manager'))
    if (losesManager && managers(file) === 1) return err('STAFF_LAST_MANAGER', `username: ${name} is the last manager`, 'username')

    let next: StaffUser | null
    let kind: UserJournalEntry['kind']
    switch (change.kind) {
      case 'add':
        next = { username: name, role: change.role, password: hash!, created_at: nowS, updated_at: nowS, signed_out_at: 0 }
        kind = 'staff.added'
        break
      case 'remove':
        next = null
        kind = 'staff.removed'
        break
      case 'role':
        // Sign-ins carry the role they were made with: a changed role signs the user out.
        next = { ...current!, role: change.role, updated_at: nowS, signed_out_at: ctx.now / 1000 }
        kind = 'staff.role'
        break
      case 'password':
        next = { ...current!, password: hash!, updated_at: nowS, signed_out_at: ctx.now / 1000 }
        kind = 'staff.password'
        break
      case 'sign-out':
        next = { ...current!, signed_out_at: ctx.now / 1000 }
        kind = 'staff.signed_out'
        break
    }
    if (next) file.users.set(name, next)
    else file.users.delete(name)
    const entry: UserJournalEntry = {
      id: journalId(ctx.now),
      at: ctx.now / 1000,
      actor: ctx.actor,
      kind,
      target: name,
      before: current ? { role: current.role } : null,
      after: next ? { role: next.role } : null,
    }
    file.journal.push(entry)
    writeUsers(ctx.path, file, ctx.owner)
    return ok({ user: next ? viewOf(next) : null, entry })
  } finally {
    unlock()
  }
}
