/**
 * A throwaway PostgreSQL server for reference runs: initdb in a temp dir, `postgres` on a free
 * loopback port with fsync and synchronous_commit on (a commit is durable when it returns, like the
 * hub's `sync: true` batch). Started by the bench itself, stopped (and its dir removed) by `stop()`.
 * PostgreSQL refuses to run as root, so under root it runs as the `postgres` system user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface PostgresServer {
  port: number
  user: string
  version: string
  stop(): Promise<void>
}

/** The directory holding `initdb` and `postgres`, or undefined when no server binary is installed. */
export function findPostgresBin(): string | undefined {
  const candidates = ['/usr/local/bin']
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    // Newest major first.
    for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) candidates.push(join(root, v, 'bin'))
  }
  return candidates.find((dir) => existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb')))
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** uid/gid of the `postgres` user when we are root (PostgreSQL will not run as root). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'))
  if (!line) throw new Error('running as root and there is no postgres user to run PostgreSQL as')
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

export async function startPostgres(bin: string): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pg-'))
  const owner = runAs()
  if (owner) chownSync(dir, owner.uid, owner.gid)
  const data = join(dir, 'data')
  const user = 'bench'
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', user, '-E', 'UTF8', '--locale=C'], {
    encoding: 'utf8',
    ...owner,
  })
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`initdb failed: ${init.error?.message ?? ''} ${init.stderr ?? ''}${init.stdout ?? ''}`)
  }
  const version = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout?.trim() || 'postgres'
  const port = await freePort()
  const child: ChildProcess = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on', '-c', 'synchronous_commit=on', '-c', 'full_page_writes=on'],
    { stdio: ['ignore', 'ignore', 'pipe'], ...owner },
  )
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')
  // Never leave a server behind, whatever happens to the bench.
  process.once('exit', kill)
  const stop = async () => {
    process.off('exit', kill)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT') // fast shutdown
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
    kill()
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  // Ready when it accepts a TCP connection and logs that it is ready.
  const deadline = Date.now() + 30_000
  while (!/ready to accept connections/.test(stderr)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`postgres did not start:\n${stderr}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return { port, user, version, stop }
}
