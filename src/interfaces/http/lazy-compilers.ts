/**
 * Schema compilers that compile a route's validator or response serializer on its first request
 * instead of at start-up (issue 17). Fastify compiles every route's schemas when the app becomes
 * ready: ~60 response serializers (fast-json-stringify, each with its own Ajv instance) and the
 * TypeBox validators cost a few hundred ms of a start, though most routes are not called for
 * hours. Compiled once, the function is kept: later requests run exactly what an eager compile
 * would have built, so validation and serialization are unchanged.
 */
import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'
import { Type, type TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'

/** `build` runs on the first call of the returned function, never again. */
export function compileOnFirstUse<A extends unknown[], R>(build: () => (...args: A) => R): (...args: A) => R {
  let compiled: ((...args: A) => R) | undefined
  return (...args) => (compiled ??= build())(...args)
}

type Factories = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
interface ValidatorRoute {
  schema: TSchema
  httpPart?: string
}

/** Property names Value.Convert's per-key regexp (`^name$`) matches only literally. */
const PLAIN_NAME = /^[A-Za-z0-9_-]+$/

/**
 * Value.Convert(schema, value) as a function built once per schema. For an object of plainly named
 * properties (every params, querystring and headers schema here) it converts each named property
 * present, exactly as Value.Convert does, without building one RegExp per property and testing it
 * against every key of the value on each request (issue 17: the request headers on each booking);
 * any other schema goes to Value.Convert itself.
 */
export function converterFor(schema: TSchema): (value: unknown) => unknown {
  const extra = (schema as { additionalProperties?: unknown }).additionalProperties
  const properties = Type.IsObject(schema) ? (schema.properties as Record<string, TSchema>) : undefined
  const names = properties ? Object.getOwnPropertyNames(properties) : []
  if (!properties || (typeof extra === 'object' && extra !== null) || !names.every((name) => PLAIN_NAME.test(name))) {
    return (value) => Value.Convert(schema, value)
  }
  const plan = names.map((name) => ({ name, property: properties[name]!, optional: Type.IsOptional(properties[name]) }))
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
    const record = value as Record<string, unknown>
    for (const { name, property, optional } of plan) {
      if (!Object.hasOwn(record, name) || (optional && record[name] === undefined)) continue
      record[name] = Value.Convert(property, record[name])
    }
    return record
  }
}

/**
 * @fastify/type-provider-typebox's TypeBoxValidatorCompiler (bodies checked as sent, other parts
 * converted from text first), with the conversion built once per schema (converterFor).
 */
function typeboxValidator({ schema, httpPart }: ValidatorRoute) {
  const typeCheck = Compile(schema)
  const convert = httpPart === 'body' ? undefined : converterFor(schema)
  return (value: unknown) => {
    const converted = convert ? convert(value) : value
    if (typeCheck.Check(converted)) return { value: converted }
    return { error: typeCheck.Errors(converted) }
  }
}

/**
 * The `schemaController.compilersFactory` option: TypeBox validators (as the MQTT codec checks:
 * no coercion of bodies) and fast-json-stringify serializers (Fastify's own default), both lazy.
 * Giving Fastify a validator factory also spares it building its default Ajv compiler.
 */
export const lazyCompilers: Factories = {
  // (Fastify types this factory after Ajv's; it calls the result with the route as for setValidatorCompiler)
  buildValidator: (() => (route: ValidatorRoute) => compileOnFirstUse(() => typeboxValidator(route))) as unknown as Factories['buildValidator'],
  buildSerializer: (externalSchemas, options) => {
    const compile = SerializerSelector()(externalSchemas as never, options as never)
    return (route: Parameters<typeof compile>[0]) => compileOnFirstUse(() => compile(route))
  },
}
