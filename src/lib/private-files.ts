/**
 * The hub's state is private to its user (issue 10): LevelDB folders 0700, files 0600. The
 * process sets umask 077 (main.ts) so everything it creates is private; this fixes what an
 * older version or a copy left readable, before the databases open.
 */
import { chmod, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** chmod `path` (a folder: 0700, and everything in it, folders 0700 and files 0600); missing is fine. */
export async function makePrivate(path: string): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  if (!info) return
  if (info.isDirectory()) {
    if ((info.mode & 0o777) !== 0o700) await chmod(path, 0o700)
    for (const entry of await readdir(path)) await makePrivate(join(path, entry))
  } else if (info.isFile() && (info.mode & 0o777) !== 0o600) {
    await chmod(path, 0o600)
  }
}
