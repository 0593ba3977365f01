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
    try {
      const client = await mqtt.connectAsync(url, { ...user, clientId: `ready-probe-${randomBytes(3).toString('hex')}`, reconnectPeriod: 0, connectTimeout: 2000 })
      await client.endAsync(true)
      return
    } catch (error) {
      if (Date.now() > options.deadline) throw new Error(`${options.what}: MQTT login not possible in time (${(error as Error).message}):\n${options.output()}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}
