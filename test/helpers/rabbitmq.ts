/**
 * A private RabbitMQ node with the MQTT plugin, started by a test as a child process (Debian's
 * `rabbitmq-server`, 3.10.x): its own mnesia, log and config dirs, node name, AMQP / MQTT /
 * distribution ports and its own epmd on a free port, so it never meets the system service or
 * another test's node. Users, vhost and permissions come from a definitions file loaded at boot
 * (no rabbitmqctl round trips, each of which boots an Erlang VM). Ready means an MQTT CONNECT
 * with real credentials succeeded, not a sleep.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { freePort } from './free-port.js'
import { waitForMqttLogin } from './mqtt-login.js'

/** The server script itself (Debian): /usr/sbin/rabbitmq-server is a wrapper that su's to the rabbitmq user. */
const SERVER_LINK = '/usr/lib/rabbitmq/bin/rabbitmq-server'

export const hasRabbitMq = existsSync(SERVER_LINK)

export interface RabbitUser {
  username: string
  password: string
  /** vhost permission regexes (resources: exchanges and the MQTT plugin's queues) */
  configure: string
  write: string
  read: string
  /** topic permission regexes on amq.topic, matched against the routing key (MQTT `/` becomes `.`) */
  topicWrite: string
  topicRead: string
}

export interface RabbitNode {
  mqttUrl: string
  vhost: string
  /** ms from spawn to the first successful MQTT CONNECT, per start (the first includes creating the database) */
  bootMs: number[]
  start(): Promise<void>
  /** graceful stop (SIGTERM): durable queues and persistent messages are kept for the next start */
  stop(): Promise<void>
  /** stop the node and its epmd (teardown) */
  close(): Promise<void>
}

/** RabbitMQ's stored password format: base64(salt ++ sha256(salt ++ password)) with a 4-byte salt. */
function passwordHash(password: string): string {
  const salt = randomBytes(4)
  const digest = createHash('sha256').update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest()
  return Buffer.concat([salt, digest]).toString('base64')
}

function waitForPort(port: number, deadline: number, alive: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = tcpConnect({ port, host: '127.0.0.1' })
      socket.once('connect', () => {
        socket.destroy()
        resolve()
      })
      socket.once('error', () => {
        socket.destroy()
        if (!alive()) reject(new Error('process exited before its port opened'))
        else if (Date.now() > deadline) reject(new Error(`port ${port} not open in time`))
        else setTimeout(attempt, 50)
      })
    }
    attempt()
  })
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

export async function createRabbitNode(dir: string, options: { vhost: string; users: RabbitUser[]; probe: { username: string; password: string }; startTimeoutMs?: number }): Promise<RabbitNode> {
  const { vhost, users } = options
  const [amqpPort, mqttPort, distPort, epmdPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  mkdirSync(join(dir, 'home'), { recursive: true })
  const definitions = {
    vhosts: [{ name: vhost }],
    users: users.map((u) => ({ name: u.username, password_hash: passwordHash(u.password), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] })),
    permissions: users.map((u) => ({ user: u.username, vhost, configure: u.configure, write: u.write, read: u.read })),
    topic_permissions: users.map((u) => ({ user: u.username, vhost, exchange: 'amq.topic', write: u.topicWrite, read: u.topicRead })),
  }
  writeFileSync(join(dir, 'definitions.json'), JSON.stringify(definitions))
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `load_definitions = ${join(dir, 'definitions.json')}`,
      `mqtt.listeners.tcp.default = 127.0.0.1:${mqttPort}`,
      'mqtt.allow_anonymous = false',
      `mqtt.vhost = ${vhost}`,
      // persistent MQTT sessions (clean session false) become quorum queues: replicated in a cluster
      'mqtt.durable_queue_type = quorum',
      'log.console = false',
      'log.file.level = info',
      '',
    ].join('\n'),
  )
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n')
  const nodeName = `bridge-test-${process.pid}-${randomBytes(3).toString('hex')}@localhost`
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    HOME: join(dir, 'home'), // the Erlang cookie goes here, not into root's home
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'), // not /etc/rabbitmq's
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
  }
  const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`
  const script = realpathSync(SERVER_LINK) // rabbitmq-env finds its siblings from the script's own path
  const timeout = options.startTimeoutMs ?? 45_000

  // Our own epmd in the foreground: the node would otherwise start a daemonised one we do not own.
  const epmd = spawn('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], { stdio: 'ignore', detached: true })
  const epmdExited = new Promise<void>((resolve) => epmd.once('exit', () => resolve()))
  await waitForPort(epmdPort, Date.now() + 10_000, () => epmd.exitCode === null).catch(async (error: unknown) => {
    epmd.kill('SIGTERM')
    await epmdExited
    throw error
  })

  let server: ChildProcess | undefined
  let output = ''
  const bootMs: number[] = []

  const stopServer = async () => {
    const child = server
    if (!child || child.pid === undefined) return
    server = undefined
    const pid = child.pid
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      // the script and beam.smp (with its port programs) share the process group we created
      try {
        process.kill(-pid, 'SIGTERM')
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => groupAlive(pid) && process.kill(-pid, 'SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    }
    // beam.smp may outlive the script by a moment while it flushes to disk
    const end = Date.now() + 20_000
    while (groupAlive(pid)) {
      if (Date.now() > end) process.kill(-pid, 'SIGKILL')
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  return {
    mqttUrl,
    vhost,
    bootMs,
    async start() {
      if (server) throw new Error('RabbitMQ node already running')
      const began = Date.now()
      output = ''
      const child = spawn(script, [], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
      server = child
      const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000))
      child.stdout!.on('data', keep)
      child.stderr!.on('data', keep)
      try {
        await waitForMqttLogin(mqttUrl, options.probe, { deadline: began + timeout, alive: () => child.exitCode === null, output: () => output, what: 'rabbitmq-server' })
      } catch (error) {
        await stopServer()
        throw error
      }
      bootMs.push(Date.now() - began)
    },
    stop: stopServer,
    async close() {
      await stopServer()
      if (epmd.exitCode === null && epmd.signalCode === null) {
        epmd.kill('SIGTERM')
        await epmdExited
      }
    },
  }
}
