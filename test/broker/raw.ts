/** Raw MQTT over TCP with mqtt-packet: for what mqtt.js won't send (empty id + persistent session, silent clients). */
import { connect as tcpConnect, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'

/** Sends one CONNECT and resolves with the CONNACK return code. */
export function rawConnack(port: number, fields: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1')
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    parser.on('packet', (packet: { cmd: string; returnCode?: number }) => {
      if (packet.cmd === 'connack') {
        socket.destroy()
        resolve(packet.returnCode ?? -1)
      }
    })
    socket.on('data', (chunk) => parser.parse(chunk))
    socket.on('error', reject)
    const { clean = true, ...rest } = fields
    const bytes = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, keepalive: 30, ...rest, clean: true } as mqttPacket.IConnectPacket)
    // The encoder refuses an empty id with a persistent session, so clear the clean-session flag
    // by hand: 1 header byte, 1 length byte, "\0\4MQTT", level, then the flags byte.
    if (!clean) bytes[9] = bytes[9]! & ~0x02
    socket.write(bytes)
  })
}

/** A client that connects and then says nothing more (no PINGREQ): resolves once CONNACK 0 arrived. */
export function silentClient(port: number, fields: Record<string, unknown>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1')
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    parser.on('packet', (packet: { cmd: string; returnCode?: number }) => {
      if (packet.cmd !== 'connack') return
      if (packet.returnCode === 0) resolve(socket)
      else reject(new Error(`CONNACK ${packet.returnCode}`))
    })
    socket.on('data', (chunk) => parser.parse(chunk))
    socket.on('error', reject)
    socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, ...fields } as mqttPacket.IConnectPacket))
  })
}

export const until = async (cond: () => boolean, ms = 5000, what = 'condition') => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
