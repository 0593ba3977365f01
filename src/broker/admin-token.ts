/**
 * The admin bearer token (DESIGN §3): HUB_ADMIN_TOKEN when set, else generated on first start
 * and kept, mode 0600, in `${dataDir}/admin-token`. Never logged.
 */
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Config } from '../config/index.js'

export function adminTokenPath(dataDir: string): string {
  return join(dataDir, 'admin-token')
}

export async function ensureAdminToken({ config, log }: { config: Config; log: Logger }): Promise<string> {
  if (config.adminToken) return config.adminToken
  const path = adminTokenPath(config.dataDir)
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const token = randomBytes(32).toString('base64url')
  await writeFile(path, token + '\n', { mode: 0o600, flag: 'wx' })
  log.warn({ path }, 'generated the admin token; read it from this file to sign in')
  return token
}
