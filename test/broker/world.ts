/** A broker with machines 1 and 2, a kiosk node and an admin node, torn down with the test. */
import type { MqttClient } from 'mqtt'
import type { Test } from 'tap'
import type { ClientIdentity, DisconnectReason } from '../../src/broker/port.js'
import { addMachine, addNode, startTestBroker, type TestBroker } from '../helpers/broker.js'

export const M1 = { clientId: 'machine_001', username: 'machine_001', password: 's1', keepalive: 10 }
export const M2 = { clientId: 'machine_002', username: 'machine_2', password: 's2', keepalive: 10 }
export const KIOSK = { clientId: 'kiosk-1', username: 'kiosk_interface', password: 'ks' }
export const ADMIN = { clientId: 'admin-1', username: 'admin_portal', password: 'as' }

export async function world(t: Test, env: Record<string, string> = {}, refused: string[] = []): Promise<TestBroker> {
  const dir = t.testdir()
  await addMachine(dir, 1, 's1')
  await addMachine(dir, 2, 's2')
  await addNode(dir, 'kiosk_interface', 'kiosk', 'ks')
  await addNode(dir, 'admin_portal', 'admin', 'as')
  const b = await startTestBroker(dir, env, { onRefused: (who, what) => refused.push(`${who.clientId} ${what}`) })
  t.teardown(() => b.close())
  return b
}

export function connectionLog(b: TestBroker) {
  const ups: ClientIdentity[] = []
  const downs: Array<{ client: ClientIdentity; reason: DisconnectReason; at: number }> = []
  b.broker.onClientUp((c) => ups.push(c))
  b.broker.onClientDown((client, reason) => downs.push({ client, reason, at: Date.now() }))
  return { ups, downs }
}

/** The SUBACK codes for `topics` (mqtt.js rejects when one is 0x80; we want to see them all). */
export async function grants(client: MqttClient, topics: string | string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(topics, { qos: 1 })).map((g) => g.qos)
  } catch (error) {
    const granted = (error as { packet?: { granted?: number[] } }).packet?.granted
    if (!granted) throw error
    return granted
  }
}
