/**
 * A changeover as the broker sees it, for test/broker/delivery-queue.test.ts, which runs it in a
 * child process (`node --stack-size=.. --import tsx test/broker/delivery-queue-scenario.ts <dataDir>
 * <bays>`) so that a stack overflow kills that process and not the test runner. It prints one JSON
 * line with what arrived (after at most DEADLINE_MS).
 *
 * The hub's real broker (createBroker via startTestBroker: port 0, LevelDB in <dataDir>), <bays>
 * clean-session dispensers on raw sockets that speak DESIGN §4 as the firmware does (subscribe to
 * external/machine/N at QoS 1, answer every control with a QoS 1 Confirmation and then a Report on
 * external/handler), and the control path's publish: one QoS 1 control per bay, all in one tick.
 */
import { connect as tcpConnect } from 'node:net'
import mqttPacket from 'mqtt-packet'
import { machineIdFromNode, machineTopic, Topics } from '../../src/protocol/topics.js'
import { startTestBroker } from '../helpers/broker.js'

const CONNECT_CONCURRENCY = 64
const DEADLINE_MS = 30_000

interface Dispenser {
  id: number
  controls: number
  close(): void
}

/** A lean dispenser: resolves once its subscription is acknowledged. */
function dispenser(port: number, id: number): Promise<Dispenser> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ port, host: '127.0.0.1', noDelay: true })
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    let messageId = 0
    const nextId = () => (messageId = (messageId % 65535) + 1)
    const send = (packet: mqttPacket.Packet) => socket.write(mqttPacket.generate(packet))
    const node = `machine_${id}`
    const self: Dispenser = { id, controls: 0, close: () => socket.destroy() }
    const publish = (body: object) =>
      send({ cmd: 'publish', topic: Topics.machineHandler, qos: 1, retain: false, dup: false, messageId: nextId(), payload: Buffer.from(JSON.stringify({ ...body, machine_id: id, origin_node: node, timestamp: Date.now() / 1000 })) })
    parser.on('packet', (packet: mqttPacket.Packet) => {
      if (packet.cmd === 'connack') {
        if (packet.returnCode !== 0) reject(new Error(`${node}: CONNACK ${packet.returnCode}`))
        else send({ cmd: 'subscribe', messageId: nextId(), subscriptions: [{ topic: machineTopic(id), qos: 1 }] })
      } else if (packet.cmd === 'suback') resolve(self)
      else if (packet.cmd === 'publish') {
        if (packet.qos === 1) send({ cmd: 'puback', messageId: packet.messageId! })
        const control = JSON.parse(packet.payload.toString()) as { exchange_id: number; status: string }
        self.controls++
        publish({ success: true, exchange_id: control.exchange_id, status: control.status, destination_node: 'machine_handler' })
        publish({ status: control.status, ball_level: 'full', firmware: 'test-1.0.0' })
      }
    })
    socket.on('data', (chunk) => parser.parse(chunk))
    socket.on('error', reject)
    send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 10, clientId: node })
  })
}

interface ScenarioResult {
  bays: number
  /** dispensers that received their control */
  controlled: number
  /** Confirmations the hub side read from the broker */
  confirmed: number
  /** control publishes whose QoS 1 delivery the broker reported done */
  published: number
}

async function changeover(dataDir: string, bays: number): Promise<ScenarioResult> {
  const b = await startTestBroker(dataDir, { HUB_MQTT_ALLOW_ANONYMOUS: 'true', HUB_MACHINES: `1-${bays}` })
  const confirmedBy = new Set<number>()
  let allConfirmed: () => void = () => {}
  const confirmedAll = new Promise<void>((resolve) => (allConfirmed = resolve))
  // the machine handler's side: read every Confirmation off the broker
  b.broker.onMessage(Topics.machineHandler, (m) => {
    const body = JSON.parse(m.payload.toString()) as { success?: boolean; machine_id: number }
    if (body.success === true && m.client && machineIdFromNode(m.client.clientId) === body.machine_id) confirmedBy.add(body.machine_id)
    if (confirmedBy.size === bays) allConfirmed()
  })
  const dispensers: Dispenser[] = []
  try {
    let next = 1
    const worker = async () => {
      for (let id = next++; id <= bays; id = next++) dispensers.push(await dispenser(b.broker.ports.mqtt, id))
    }
    await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker))
    // one tick: a control for every bay, as the scheduler's changeover sends them
    let published = 0
    const sent = Array.from({ length: bays }, (_, i) =>
      b.broker.publish(machineTopic(i + 1), { machine_id: i + 1, exchange_id: i + 1, status: 'active', scheduled_until: Date.now() / 1000 + 3600 }, { qos: 1 }).then(() => void published++),
    )
    // a lost delivery must fail the test with the counts, not hang it
    let deadline: NodeJS.Timeout | undefined
    await Promise.race([Promise.all([...sent, confirmedAll]), new Promise((resolve) => (deadline = setTimeout(resolve, DEADLINE_MS)))])
    clearTimeout(deadline)
    return { bays, controlled: dispensers.filter((d) => d.controls === 1).length, confirmed: confirmedBy.size, published }
  } finally {
    for (const d of dispensers) d.close()
    await b.close()
  }
}

const [dataDir, bays] = process.argv.slice(2)
changeover(dataDir!, Number(bays)).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`)
    process.exitCode = 1
  },
)
