import t from 'tap'
import { rawConnack } from './raw.js'
import { grants, KIOSK, M1, world } from './world.js'

t.test('credentials: right secret in, wrong secret and anonymous out', async (t) => {
  const b = await world(t)
  t.equal(await b.refusal(M1), undefined, 'machine with its secret connects')
  t.equal(await b.refusal({ ...M1, clientId: 'machine_1', username: 'machine_1' }), undefined, 'machine_1 == machine_001')
  t.match(String(await b.refusal({ ...M1, password: 'nope' })), /Bad username or password/i)
  t.match(String(await b.refusal({ ...M1, username: 'machine_003', clientId: 'machine_003', password: 's1' })), /Bad username or password/i, 'unknown machine credential')
  t.match(String(await b.refusal({ clientId: 'tool' })), /Not authorized/i, 'anonymous refused by default')
  t.match(String(await b.refusal({ ...M1, clientId: 'machine_002' })), /Identifier rejected/i, 'client id must name the same machine')
  t.match(String(await b.refusal({ ...M1, clientId: 'dispenser' })), /Identifier rejected/i, 'client id must name a machine')
  t.equal(await b.refusal(KIOSK), undefined, 'node connects')
  t.match(String(await b.refusal({ ...KIOSK, password: 'as' })), /Bad username or password/i, 'node with another node secret')
  t.match(String(await b.refusal({ ...KIOSK, username: 'nobody' })), /Bad username or password/i, 'unknown node')
  t.match(String(await b.refusal({ ...KIOSK, clientId: 'machine_002' })), /Identifier rejected/i, "a node may not use a machine's client id")
})

t.test('a machine not served by this hub is refused even with a valid secret', async (t) => {
  const b = await world(t, { HUB_MACHINES: '2-5' })
  t.match(String(await b.refusal(M1)), /Not authorized/i)
})

t.test('keep-alive rule for dispensers only; empty client id needs a clean session', async (t) => {
  const b = await world(t)
  t.match(String(await b.refusal({ ...M1, keepalive: 0 })), /Not authorized/i, 'keep-alive 0 refused')
  t.match(String(await b.refusal({ ...M1, keepalive: 11 })), /Not authorized/i, 'keep-alive above the limit (10) refused')
  t.equal(await b.refusal({ ...M1, keepalive: 1 }), undefined, '1 s is fine')
  t.match(String(await b.refusal({ ...M1, clean: false })), /Not authorized/i, 'a dispenser with a persistent session is refused (DESIGN §4)')
  t.equal(await b.refusal({ ...KIOSK, clientId: 'k3', clean: false }), undefined, 'nodes may keep a session')
  t.equal(await b.refusal({ ...KIOSK, keepalive: 0 }), undefined, 'nodes may use 0')
  t.equal(await b.refusal({ ...KIOSK, clientId: 'k2', keepalive: 300 }), undefined, 'and long ones')
  // mqtt.js will not even send this CONNECT, so speak raw MQTT: CONNACK code 2 = identifier rejected
  const port = b.broker.ports.mqtt
  t.equal(await rawConnack(port, { clientId: '', clean: false, username: 'kiosk_interface', password: Buffer.from('ks') }), 2)
  t.equal(await rawConnack(port, { clientId: '', clean: true, username: 'kiosk_interface', password: Buffer.from('ks') }), 0)
})

t.test('the keep-alive limit follows HUB_MQTT_MAX_KEEPALIVE', async (t) => {
  const b = await world(t, { HUB_MQTT_MAX_KEEPALIVE: '30' })
  t.equal(await b.refusal({ ...M1, keepalive: 30 }), undefined)
  t.match(String(await b.refusal({ ...M1, keepalive: 31 })), /Not authorized/i)
})

t.test('anonymous allowed when configured: as an admin node, or as machine N by its client id', async (t) => {
  const b = await world(t, { HUB_MQTT_ALLOW_ANONYMOUS: 'true' })
  const ups: unknown[] = []
  b.broker.onClientUp((c) => ups.push(c))
  const tool = await b.connect({ clientId: 'tool' })
  t.same(await grants(tool, 'internal/#'), [1], 'subscribes like an admin')
  const dev = await b.connect({ clientId: 'machine_7', keepalive: 5 })
  t.same(await grants(dev, 'external/machine/8'), [128], 'machine_7 is machine 7 only')
  t.same(await grants(dev, 'external/machine/7'), [1])
  t.match(String(await b.refusal({ clientId: 'machine_8', keepalive: 0 })), /Not authorized/i, 'keep-alive rule still applies')
  t.match(String(await b.refusal({ clientId: 'x', username: 'kiosk_interface', password: 'wrong' })), /Bad username/i, 'a wrong secret is still refused')
  t.match(ups, [{ kind: 'anonymous', clientId: 'tool' }, { kind: 'anonymous', clientId: 'machine_007' }], 'machine client ids are spelled one way')
})
