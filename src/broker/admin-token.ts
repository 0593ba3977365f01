/**
 * The admin bearer token (DESIGN §3): HUB_ADMIN_TOKEN when set, else generated on first start
 * and kept, mode 0600, in `${dataDir}/admin-token`. The token itself is never logged (logs end up
 * in journald and the cloud uplink); the log names the file it is in.
 */
import { randomBytes } from 'node:crypto'
import { open, readFile, rename, chmod, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Logger } from 'pino'
import type { Config } from '../config/index.js'

// the same lower bound as HUB_ADMIN_TOKEN's schema
const MIN_LENGTH = 16

export function adminTokenPath(dataDir: string): string {
  return join(dataDir, 'admin-token')
}

export async function ensureAdminToken({ config, log }: { config: Config; log: Logger }): Promise<string> {
  if (config.adminToken) return config.adminToken
  const path = adminTokenPath(config.dataDir)
  const existing = await readToken(path)
  if (existing !== undefined && existing.length >= MIN_LENGTH) {
    // someone may have copied the file in with a loose mode
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600)
    return existing
  }
  if (existing !== undefined) log.warn({ path }, 'admin token file is empty or too short; making a new token')
  const token = randomBytes(32).toString('base64url')
  await writeAtomic(path, token + '\n')
  log.warn({ path }, 'generated the admin token; read it from this file to sign in')
  return token
}

/**
 * The shared secret of the enrollment login (issue 16), compiled into the generic firmware image:
 * HUB_ENROLL_SECRET when set, else generated once into `${dataDir}/enroll-secret` (0600). It only
 * lets a device announce itself while staff hold the enrollment window open.
 */
export async function ensureEnrollSecret({ config, log }: { config: Config; log: Logger }): Promise<string> {
  if (config.enrollSecret) return config.enrollSecret
  const path = join(config.dataDir, 'enroll-secret')
  const existing = await readToken(path)
  if (existing !== undefined && existing.length >= MIN_LENGTH) return existing
  const secret = randomBytes(24).toString('base64url')
  await writeAtomic(path, secret + '\n')
  log.warn({ path }, 'generated the enrollment secret; build it into the generic firmware (esp32/README.md "Adoption")')
  return secret
}

async function readToken(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** tmp + fsync + rename (+ fsync of the directory): a power cut leaves no half-written token. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  const file = await open(tmp, 'w', 0o600)
  try {
    await file.writeFile(text)
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(tmp, path)
  const dir = await open(dirname(path), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}
