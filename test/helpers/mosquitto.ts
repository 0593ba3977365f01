/**
 * A private mosquitto started by a test as a child process: its own port, password file, ACL
 * and persistence dir, so a graceful stop (SIGTERM saves its database) and a start again keep
 * persistent sessions, as a real central broker would.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from './free-port.js'
import { waitForMqttLogin } from './mqtt-login.js'

export const hasMosquitto = spawnSync('sh', ['-c', 'command -v mosquitto && command -v mosquitto_passwd']).status === 0

export interface MosquittoNode {
  url: string
  start(): Promise<void>
  /** SIGTERM: mosquitto writes its persistence file, sessions survive the next start */
  stop(): Promise<void>
}

export async function createMosquitto(dir: string, options: { users: Array<{ username: string; password: string }>; acl: string; probe: { username: string; password: string } }): Promise<MosquittoNode> {
  const port = await freePort()
  const passwd = join(dir, 'passwd')
  writeFileSync(passwd, '', { mode: 0o600 })
  for (const { username, password } of options.users) {
    const r = spawnSync('mosquitto_passwd', ['-b', passwd, username, password], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`)
  }
  writeFileSync(join(dir, 'acl'), options.acl, { mode: 0o600 })
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      `acl_file ${join(dir, 'acl')}`,
      'user root',
      'persistence true',
      `persistence_location ${dir}/`,
      'log_dest stderr',
      'log_type error',
      'log_type information',
      '',
    ].join('\n'),
  )
  const url = `mqtt://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  return {
    url,
    async start() {
      if (child) throw new Error('mosquitto already running')
      let output = ''
      const c = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
      child = c
      c.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)))
      try {
        await waitForMqttLogin(url, options.probe, { deadline: Date.now() + 15_000, alive: () => c.exitCode === null, output: () => output, what: 'mosquitto' })
      } catch (error) {
        if (c.exitCode === null) c.kill('SIGKILL')
        child = undefined
        throw error
      }
    },
    async stop() {
      const c = child
      child = undefined
      if (!c || c.exitCode !== null || c.signalCode !== null) return
      const exited = new Promise((r) => c.once('exit', r))
      c.kill('SIGTERM')
      await exited
    },
  }
}
