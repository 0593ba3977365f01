import Fastify from 'fastify'
import t from 'tap'
import { isDeepStrictEqual } from 'node:util'
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

t.test('converterFor converts params, query strings and headers exactly as Value.Convert does (seeded, every such schema of the routes plus odd ones)', async (t) => {
  const { Value } = await import('typebox/value')
  const { converterFor } = await import('../../../src/interfaces/http/lazy-compilers.js')
  const { seededRandom } = await import('../../helpers/seeded-random.js')
  const http = await import('../../../src/interfaces/http/schemas.js')
  const staff = await import('../../../src/interfaces/http/schemas-staff.js')
  const affected = await import('../../../src/protocol/affected.js')
  const fleet = await import('../../../src/protocol/fleet.js')
  const messages = await import('../../../src/protocol/messages.js')
  const reports = await import('../../../src/protocol/reports.js')
  const schemas: Record<string, import('typebox').TSchema> = {
    SessionParams: http.SessionParams, IdempotencyHeaders: http.IdempotencyHeaders, MachineParams: http.MachineParams, AlertParams: http.AlertParams,
    DateQuery: http.DateQuery, ScheduleQuery: http.ScheduleQuery, SessionListQuery: http.SessionListQuery, CancelQuery: http.CancelQuery,
    StaffParams: staff.StaffParams, AffectedQuery: affected.AffectedQuery, CreditQuery: affected.CreditQuery, MacParams: fleet.MacParams,
    AvailabilityQuery: messages.AvailabilityQuery, AlertQuery: messages.AlertQuery, HeatmapQuery: reports.HeatmapQuery,
    // the general path (Value.Convert itself) and the shapes beside the routes' own
    mixed: Type.Object({ n: Type.Number(), i: Type.Optional(Type.Integer()), b: Type.Optional(Type.Boolean()), u: Type.Optional(Type.Union([Type.Integer(), Type.Literal('all')])), a: Type.Optional(Type.Array(Type.Integer())) }),
    closed: Type.Object({ i: Type.Integer() }, { additionalProperties: false }),
    extraTyped: Type.Object({ i: Type.Integer() }, { additionalProperties: Type.Integer() }),
    oddName: Type.Object({ 'a.b': Type.Integer() }),
    notAnObject: Type.Integer(),
  }
  const pool: unknown[] = ['', ' ', '5', ' 5 ', '-0', '0x10', '1e3', '1.5', '12abc', 'true', 'FALSE', 'null', 'all', '9007199254740993', '2026-12-01', 'kiosk', undefined, null, 7, 1.5, true, ['1', '2'], {}]
  const random = seededRandom(17)
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!
  let compared = 0
  for (const [name, schema] of Object.entries(schemas)) {
    const known = Type.IsObject(schema) ? Object.keys(schema.properties as object) : []
    const keys = [...known, 'other', 'a.b', 'aXb', '__proto__', 'constructor']
    const convert = converterFor(schema)
    const mismatches: string[] = []
    for (let i = 0; i < 300; i++) {
      const input: Record<string, unknown> = random() < 0.05 ? (pick(pool) as Record<string, unknown>) : Object.create(random() < 0.5 ? null : Object.prototype)
      if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
        for (const key of keys) if (random() < 0.5) Object.defineProperty(input, key, { value: pick(pool), enumerable: true, writable: true, configurable: true })
      }
      const clone = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.assign(Object.create(Object.getPrototypeOf(v)), Object.fromEntries(Object.getOwnPropertyNames(v).map((k) => [k, (v as Record<string, unknown>)[k]]))) : v)
      const expected = Value.Convert(schema, clone(input))
      const actual = convert(clone(input))
      const plain = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.getOwnPropertyNames(v).map((k) => [k, (v as Record<string, unknown>)[k]])) : v)
      if (!isDeepStrictEqual(plain(actual), plain(expected))) mismatches.push(`${JSON.stringify(plain(input))} -> ${JSON.stringify(plain(actual))}, Value.Convert: ${JSON.stringify(plain(expected))}`)
      compared++
    }
    t.same(mismatches.slice(0, 3), [], `${name}: 300 inputs convert alike`)
  }
  t.equal(compared, Object.keys(schemas).length * 300)
})
