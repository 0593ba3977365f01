/**
 * Files the CLI and the hub both rewrite (credentials.json, users.json): an atomic, synced replace
 * and an exclusive lock file, written once for both.
 */
import { closeSync, fchownSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * Atomic replace: a power cut leaves the old file or the new one, never half of one.
 * `owner`: give the file to this user (root running the CLI for the hub's service user).
 */
export function replaceFileDurably(path: string, text: string, owner?: { uid: number; gid: number }): void {
  const tmp = `${path}.${process.pid}.tmp`
  const fd = openSync(tmp, 'w', 0o600)
  try {
    if (owner) fchownSync(fd, owner.uid, owner.gid)
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
  // the rename itself must reach the disk too, or a power cut can bring the old file back
  const dir = openSync(dirname(path), 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}

/** An exclusive lock file (O_EXCL) at `lockPath`; waits up to 10 s for its holder to finish. */
export async function lockFile(lockPath: string): Promise<() => void> {
  for (let waited = 0; ; waited += 50) {
    try {
      closeSync(openSync(lockPath, 'wx', 0o600))
      return () => rmSync(lockPath, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      // A lock older than a minute was left by a killed process.
      const age = Date.now() - (statSync(lockPath, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
      if (waited >= 10_000 || age > 60_000) rmSync(lockPath, { force: true })
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

let lastJournalId = ''
/**
 * Ids of change-journal entries in these files (users.json, credentials.json): time-ordered and
 * unique within one process and, with the pid, across the CLI and the hub.
 */
export function journalId(nowMs: number): string {
  let id = `${String(Math.floor(nowMs)).padStart(15, '0')}-${process.pid}`
  if (id <= lastJournalId) id = `${lastJournalId}+`
  lastJournalId = id
  return id
}
