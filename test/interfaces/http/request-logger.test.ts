/**
 * The lazily made request logger (issue 17): the same lines as Fastify's default child logger,
 * and no child at all for a request that writes nothing at the level in force.
 */
import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import pino, { type Logger } from 'pino'
import { lazyRequestLogger } from '../../../src/interfaces/http/request-logger.js'

/** A pino logger writing JSON lines into `lines` (synchronously: pino writes to a plain stream at once). */
function capture(level: string): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>)
      callback()
    },
  })
  return { log: pino({ level, base: { app: 'test' } }, stream), lines }
}

const withoutTime = ({ time: _time, ...rest }: Record<string, unknown>) => rest

t.test('no child is made until a line would be written; then the same line as the default child', async (t) => {
  const { log, lines } = capture('info')
  const made: unknown[] = []
  const child = log.child.bind(log)
  log.child = ((bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => {
    made.push(bindings)
    return child(bindings, options)
  }) as unknown as typeof log.child
  const lazy = lazyRequestLogger(log, { reqId: 'req-1' }, {})
  lazy.debug({ a: 1 }, 'not at info')
  lazy.trace('nor this')
  t.equal(lazy.level, 'info', 'the level is the parent’s')
  t.same(made, [], 'silent levels make no child')
  t.equal(lines.length, 0)

  lazy.warn({ a: 2 }, 'written')
  lazy.error(new Error('boom'), 'failed')
  t.same(made, [{ reqId: 'req-1' }], 'the child is made once, with the request’s bindings')
  const direct = child({ reqId: 'req-1' })
  direct.warn({ a: 2 }, 'written')
  direct.error(new Error('boom'), 'failed')
  t.equal(lines.length, 4)
  t.same(withoutTime(lines[0]!), withoutTime(lines[2]!), 'a warn line as the default child writes it')
  const [lazyError, directError] = [withoutTime(lines[1]!), withoutTime(lines[3]!)]
  t.match(lazyError, { level: 50, app: 'test', reqId: 'req-1', msg: 'failed', err: { message: 'boom', type: 'Error' } })
  t.same(Object.keys(lazyError).sort(), Object.keys(directError).sort(), 'an error line has the same fields')
})

t.test('level changes, isLevelEnabled, bindings and grandchildren reach the child', async (t) => {
  const { log, lines } = capture('info')
  const lazy = lazyRequestLogger(log, { reqId: 'req-2' }, {}) as unknown as Logger
  t.equal(lazy.isLevelEnabled('debug'), false)
  lazy.level = 'debug'
  t.equal(lazy.isLevelEnabled('debug'), true)
  t.equal(log.level, 'info', 'the parent keeps its level')
  lazy.debug('now written')
  t.match(lines[0], { level: 20, reqId: 'req-2', msg: 'now written' })
  t.same(lazy.bindings(), { app: 'test', reqId: 'req-2' })
  lazy.child({ step: 'x' }).info('grandchild')
  t.match(lines[1], { reqId: 'req-2', step: 'x', msg: 'grandchild' })
})

t.test('a route level or serializers make the child at once (they change the child itself)', async (t) => {
  const { log } = capture('info')
  const withLevel = lazyRequestLogger(log, { reqId: 'req-3' }, { level: 'debug' }) as unknown as Logger
  t.equal(withLevel.level, 'debug')
  t.equal(typeof withLevel.bindings, 'function')
  t.same(withLevel.bindings(), { app: 'test', reqId: 'req-3' })
})

t.test('in a Fastify app: request.log lines carry reqId; a 5xx is logged with it', async (t) => {
  // warn: Fastify's own request lines (info) stay silent, its 5xx line (error) is written
  const { log, lines } = capture('warn')
  const app = Fastify({ loggerInstance: log, childLoggerFactory: lazyRequestLogger })
  t.teardown(() => app.close())
  app.get('/quiet', async (request) => {
    request.log.info('not at warn')
    return { ok: true }
  })
  app.get('/warn', async (request) => {
    request.log.warn({ field: 'x' }, 'told')
    return { ok: true }
  })
  app.get('/fail', async () => {
    throw new Error('handler broke')
  })
  t.equal((await app.inject({ url: '/quiet' })).statusCode, 200)
  t.equal(lines.length, 0, 'nothing written for a quiet request')
  t.equal((await app.inject({ url: '/warn' })).statusCode, 200)
  t.match(lines.at(-1), { level: 40, field: 'x', msg: 'told', reqId: /^req-/ })
  t.equal((await app.inject({ url: '/fail' })).statusCode, 500)
  t.match(lines.at(-1), { level: 50, reqId: /^req-/, err: { message: 'handler broke' } })
})
