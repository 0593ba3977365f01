// @ts-check
/**
 * The floor of `npm run bench -- changeover`: a bare Aedes broker (memory persistence, noDelay
 * listener as DESIGN §7) in its own process, doing nothing but what a changeover must: at the
 * start second it publishes one QoS 1 control per bay, at the end second one `idle` control per
 * bay, shaped like the hub's controls. It counts the Confirmations that come back.
 *
 * argv: port. Prints "ready <port>" when listening. IPC: {type:'schedule', ids, startS, endS,
 * sessionBase} -> {type:'scheduled'}; {type:'results'} -> {type:'results', confirmed: {active, idle}}.
 */
import net from 'node:net'
import { Aedes } from 'aedes'

const port = Number(process.argv[2] ?? 0)
const broker = await Aedes.createBroker()
const server = net.createServer({ noDelay: true }, broker.handle)
await new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(undefined)))
const address = /** @type {net.AddressInfo} */ (server.address())

/** "machine:exchange" of each changeover control confirmed (the connect-time ones are not counted) */
const confirmed = { active: new Set(), idle: new Set(), connect: new Set() }
let exchange = 1
/** @type {Map<number, 'active' | 'idle' | 'connect'>} */
const statusOf = new Map()

broker.on('publish', (packet, client) => {
  if (!client || packet.topic !== 'external/handler') return
  let m
  try {
    m = JSON.parse(packet.payload.toString())
  } catch {
    return
  }
  if (m.success !== true || typeof m.exchange_id !== 'number') return
  const status = statusOf.get(m.exchange_id)
  if (status) confirmed[status].add(`${m.machine_id}:${m.exchange_id}`)
})

/** @param {number[]} ids @param {'active' | 'idle'} status @param {number} sessionBase @param {number} endS */
function publishAll(ids, status, sessionBase, endS, kind = status) {
  for (const id of ids) {
    const exchangeId = exchange++
    statusOf.set(exchangeId, kind)
    const control = {
      machine_id: id,
      session_id: status === 'active' ? sessionBase + id : null,
      status,
      scheduled_until: status === 'active' ? endS : null,
      timestamp: Date.now() / 1000,
      exchange_id: exchangeId,
      origin_node: 'machine_handler',
      destination_node: `machine_${String(id).padStart(3, '0')}`,
    }
    broker.publish({ cmd: 'publish', topic: `external/machine/${id}`, payload: Buffer.from(JSON.stringify(control)), qos: 1, retain: false, dup: false }, () => {})
  }
}

// As the hub does on every (re)connect (DESIGN §4): the subscriber gets the state it must be in,
// here always idle. It also warms the publish path the changeover uses, as the hub's is warmed.
broker.on('subscribe', (subscriptions, client) => {
  const id = Number(/^external\/machine\/(\d+)$/.exec(subscriptions[0]?.topic ?? '')?.[1])
  if (client && id > 0) publishAll([id], 'idle', 0, 0, 'connect')
})

/** Fires at the epoch second `atS`, the way the hub's ticker arms its timer (rounded up). */
const at = (atS, fn) => setTimeout(fn, Math.max(0, Math.ceil(atS * 1000 - Date.now())))

process.on('message', (/** @type {any} */ msg) => {
  if (msg.type === 'schedule') {
    at(msg.startS, () => publishAll(msg.ids, 'active', msg.sessionBase, msg.endS))
    at(msg.endS, () => publishAll(msg.ids, 'idle', msg.sessionBase, msg.endS))
    process.send?.({ type: 'scheduled' })
  } else if (msg.type === 'results') {
    process.send?.({ type: 'results', confirmed: { active: confirmed.active.size, idle: confirmed.idle.size } })
  } else if (msg.type === 'exit') {
    broker.close(() => server.close(() => process.exit(0)))
  }
})
process.on('disconnect', () => process.exit(0))
console.log(`ready ${address.port}`)
