import Fastify from 'fastify'
import t from 'tap'
import { Type } from 'typebox'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { compileOnFirstUse, lazyCompilers } from '../../../src/interfaces/http/lazy-compilers.js'

t.test('compileOnFirstUse builds on the first call only, and never before', async (t) => {
  let builds = 0
  const double = compileOnFirstUse(() => {
    builds++
    return (n: number) => n * 2
  })
  t.equal(builds, 0, 'nothing compiled up front')
  t.equal(double(2), 4)
  t.equal(double(5), 10)
  t.equal(builds, 1, 'compiled once, then reused')
})

t.test('lazy compilers validate and serialize as the eager ones did', async (t) => {
  const app = Fastify({ schemaController: { compilersFactory: lazyCompilers } }).withTypeProvider<TypeBoxTypeProvider>()
  t.teardown(() => app.close())
  app.post(
    '/n',
    {
      schema: {
        body: Type.Object({ n: Type.Number() }),
        querystring: Type.Object({ times: Type.Optional(Type.Integer({ minimum: 1 })) }),
        response: { 200: Type.Object({ n: Type.Number() }) },
      },
    },
    // the extra field is not in the response schema: the serializer leaves it out
    (request) => ({ n: request.body.n * (request.query.times ?? 1), secret: 'not sent' }),
  )
  await app.ready()

  for (let round = 0; round < 2; round++) {
    const ok = await app.inject({ method: 'POST', url: '/n?times=3', payload: { n: 2 } })
    t.equal(ok.statusCode, 200, `round ${round}`)
    t.same(ok.json(), { n: 6 }, 'query string converted from text; the response carries only its schema')
    // bodies are not coerced (one rule for both doors, as the MQTT codec)
    const text = await app.inject({ method: 'POST', url: '/n', payload: { n: '5' } })
    t.equal(text.statusCode, 400)
    t.match(text.json().message, /n/)
    const badQuery = await app.inject({ method: 'POST', url: '/n?times=0', payload: { n: 1 } })
    t.equal(badQuery.statusCode, 400)
  }
})
