/**
 * Runs the real hub (src/main.ts) as a child process, for tests that kill it with SIGKILL
 * and start it again on the same data dir. Ports come from its "hub ready" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { onJsonLines } from './json-lines.js'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface HubProcess {
  child: ChildProcess
  mqttPort: number
  httpPort: number
  /** every JSON log line so far */
  logs: Array<Record<string, unknown>>
  kill(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * `run: 'dist'` runs the built `dist/main.js` as in production (benchmarks; needs `npm run build`);
 * `{ entry }` runs that built file (the bundle test builds its own).
 */
export async function startHubProcess(env: Record<string, string>, timeoutMs = 30_000, run: 'src' | 'dist' | { entry: string } = 'src'): Promise<HubProcess> {
  const args = typeof run === 'object' ? [run.entry] : run === 'dist' ? [join(repoRoot, 'dist', 'main.js')] : ['--import', 'tsx', join(repoRoot, 'src', 'main.ts')]
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, HUB_MQTT_PORT: '0', HUB_HTTP_PORT: '0', HUB_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))))

  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      // a hub that never got ready must not outlive the test that started it
      child.kill('SIGKILL')
      reject(new Error(`hub did not start in ${timeoutMs} ms\n${stderr}`))
    }, timeoutMs)
    onJsonLines(child.stdout!, (entry) => {
      if (!entry) return
      logs.push(entry)
      if (entry.msg === 'hub ready') {
        clearTimeout(timer)
        resolve(entry)
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`hub exited with ${code} before it was ready\n${stderr}`))
    })
  })
  const entry = await ready
  return {
    child,
    mqttPort: Number(entry.mqttPort),
    httpPort: Number(entry.httpPort),
    logs,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
