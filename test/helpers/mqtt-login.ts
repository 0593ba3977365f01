/**
 * Readiness of an MQTT broker a test started as its own process (mosquitto, RabbitMQ): ready is
 * a CONNECT with real credentials that succeeds, retried until a deadline, never a fixed sleep.
 */
import { randomBytes } from 'node:crypto'
import mqtt from 'mqtt'

export async function waitForMqttLogin(
  url: string,
  user: { username: string; password: string },
  options: { deadline: number; alive: () => boolean; output: () => string; what: string },
): Promise<void> {
  for (;;) {
    if (!options.alive()) throw new Error(`${options.what} exited while starting:\n${options.output()}`)
    const outcome = await tryLogin(url, user)
    if (outcome === 'ok') return
    if (Date.now() > options.deadline) throw new Error(`${options.what}: MQTT login not possible in time (${outcome}):\n${options.output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * One CONNECT, settled whatever happens: CONNACK, an error, or the broker closing the socket
 * without a word (RabbitMQ does while a vhost is still starting), which connectAsync would
 * wait on forever.
 */
function tryLogin(url: string, user: { username: string; password: string }): Promise<string> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { ...user, clientId: `ready-probe-${randomBytes(3).toString('hex')}`, reconnectPeriod: 0, connectTimeout: 2000 })
    const timer = setTimeout(() => settle('no CONNACK in 3 s'), 3000)
    const settle = (outcome: string) => {
      clearTimeout(timer)
      client.removeAllListeners()
      client.on('error', () => undefined)
      client.end(true)
      resolve(outcome)
    }
    client.once('connect', () => settle('ok'))
    client.once('error', (error) => settle(error.message))
    client.once('close', () => settle('connection closed'))
  })
}
