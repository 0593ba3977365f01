/**
 * /api/health is written with JSON.stringify instead of a compiled schema serializer (it answers
 * the start-up probe; issue 17): its body must be exactly what the Health schema's
 * fast-json-stringify serializer writes, with the clock and the link status in it.
 */
import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import t from 'tap'
import { Health } from '../../../src/interfaces/http/schemas.js'
import { FakeTimeSync } from '../../helpers/fake-time-sync.js'
import { buildWorld, connectMachine } from './world.js'

t.test('the health body is what the Health schema serializer writes', async (t) => {
  const w = await buildWorld(t, { timeSync: new FakeTimeSync(), health: () => ({ link: { uplink: { enabled: false }, bridge: { enabled: true, connected: false, backlog: 3 } } }) })
  await connectMachine(w, 1)
  const res = await w.app.inject({ url: '/api/health' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /application\/json/)
  const body = res.json() as Record<string, unknown>
  t.ok(body.clock, 'the clock is part of it')
  const schemaWritten = SerializerSelector()({}, {})({ schema: Health, method: 'GET', url: '/api/health', httpStatus: '200' })(body)
  t.equal(res.body, schemaWritten, 'byte for byte')
})
