/** A real embedded broker on port 0 in a temp dir, with credentials, for tests. */
import { randomBytes, scrypt } from 'node:crypto'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { loadConfig, type Config } from '../../src/config/index.js'
import { createBroker, createCredentialStore, type Broker, type BrokerDeps } from '../../src/broker/index.js'
import { hashSecret, readCredentials, writeCredentials, credentialsPath } from '../../src/broker/credentials.js'
import type { Role } from '../../src/protocol/identity.js'

export interface TestBroker {
  broker: Broker
  config: Config
  url: string
  connect(options: IClientOptions): Promise<MqttClient>
  /** tries to connect; resolves with the CONNACK error (or undefined when it connected) */
  refusal(options: IClientOptions): Promise<Error | undefined>
  /** ends every client and closes the broker */
  close(): Promise<void>
}

export async function addMachine(dataDir: string, id: number, secret: string): Promise<void> {
  const path = credentialsPath(dataDir)
  const file = readCredentials(path)
  file.machines[String(id)] = await hashSecret(secret)
  writeCredentials(path, file)
}

export async function addNode(dataDir: string, name: string, role: Role, secret: string): Promise<void> {
  const path = credentialsPath(dataDir)
  const file = readCredentials(path)
  file.nodes[name] = { ...(await hashSecret(secret)), role }
  writeCredentials(path, file)
}

/**
 * An scrypt entry as versions before issue 17 wrote them (N=2^12, r=8, p=1), for tests of installs
 * that still hold such entries: the hub must verify them, with the scrypt queue and cache.
 */
export async function addLegacyScryptEntry(dataDir: string, who: { machine: number } | { node: string; role: Role }, secret: string): Promise<void> {
  const salt = randomBytes(16)
  const hash = await new Promise<Buffer>((resolve, reject) => scrypt(secret, salt, 32, { N: 4096, r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key))))
  const entry = { hash: hash.toString('base64'), salt: salt.toString('base64'), N: 4096, r: 8, p: 1, created_at: new Date().toISOString() }
  const path = credentialsPath(dataDir)
  const file = readCredentials(path)
  if ('machine' in who) file.machines[String(who.machine)] = entry
  else file.nodes[who.node] = { ...entry, role: who.role }
  writeCredentials(path, file)
}

export async function startTestBroker(
  dataDir: string,
  env: Record<string, string> = {},
  extra: Pick<BrokerDeps, 'onRefused' | 'clock'> = {},
): Promise<TestBroker> {
  const config = loadConfig({ HUB_DATA_DIR: dataDir, HUB_MQTT_PORT: '0', HUB_TIMEZONE: 'UTC', HUB_MACHINES: '1-20', ...env })
  const log = pino({ level: 'silent' })
  const broker = await createBroker({ config, log, credentials: createCredentialStore({ dataDir }), ...extra })
  const url = `mqtt://127.0.0.1:${broker.ports.mqtt}`
  const clients: MqttClient[] = []
  const connect = (options: IClientOptions) =>
    new Promise<MqttClient>((resolve, reject) => {
      const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options })
      clients.push(client)
      client.once('connect', () => resolve(client))
      client.once('error', reject)
      client.once('close', () => reject(new Error('closed before connect')))
    })
  return {
    broker,
    config,
    url,
    connect,
    refusal: (options) => connect(options).then(
      (c) => {
        c.end(true)
        return undefined
      },
      (error: Error) => error,
    ),
    async close() {
      for (const c of clients) c.end(true)
      await broker.close()
    },
  }
}
