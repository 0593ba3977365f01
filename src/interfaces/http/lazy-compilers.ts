/**
 * Schema compilers that compile a route's validator or response serializer on its first request
 * instead of at start-up (issue 17). Fastify compiles every route's schemas when the app becomes
 * ready: ~60 response serializers (fast-json-stringify, each with its own Ajv instance) and the
 * TypeBox validators cost a few hundred ms of a start, though most routes are not called for
 * hours. Compiled once, the function is kept: later requests run exactly what an eager compile
 * would have built, so validation and serialization are unchanged.
 */
import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import type { FastifyServerOptions } from 'fastify'

/** `build` runs on the first call of the returned function, never again. */
export function compileOnFirstUse<A extends unknown[], R>(build: () => (...args: A) => R): (...args: A) => R {
  let compiled: ((...args: A) => R) | undefined
  return (...args) => (compiled ??= build())(...args)
}

type Factories = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
type ValidatorRoute = Parameters<typeof TypeBoxValidatorCompiler>[0]

/**
 * The `schemaController.compilersFactory` option: TypeBox validators (as the MQTT codec checks:
 * no coercion of bodies) and fast-json-stringify serializers (Fastify's own default), both lazy.
 * Giving Fastify a validator factory also spares it building its default Ajv compiler.
 */
export const lazyCompilers: Factories = {
  // (Fastify types this factory after Ajv's; it calls the result with the route as for setValidatorCompiler)
  buildValidator: (() => (route: ValidatorRoute) => compileOnFirstUse(() => TypeBoxValidatorCompiler(route))) as unknown as Factories['buildValidator'],
  buildSerializer: (externalSchemas, options) => {
    const compile = SerializerSelector()(externalSchemas as never, options as never)
    return (route: Parameters<typeof compile>[0]) => compileOnFirstUse(() => compile(route))
  },
}
