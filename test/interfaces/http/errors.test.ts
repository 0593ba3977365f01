import t from 'tap'
import { HttpError, statusForCode, validationMessage } from '../../../src/interfaces/http/errors.js'
import { auth, buildWorld } from './world.js'

t.test('domain codes map to statuses', async (t) => {
  const table: Array<[string, number]> = [
    ['SESSION_CONFLICT', 409], ['MACHINE_HELD', 409], ['SESSION_ENDED', 409],
    ['SESSION_NOT_FOUND', 404], ['MACHINE_UNKNOWN', 404], ['ALERT_UNKNOWN', 404], ['THING_NOT_FOUND', 404],
    ['SESSION_INVALID', 400], ['BAYS_NOT_ADJACENT', 400], ['MACHINE_INVALID', 400],
    ['SESSION_FORBIDDEN', 403], ['SOMETHING_ELSE', 500],
  ]
  for (const [code, status] of table) t.equal(statusForCode(code), status, code)
})

t.test('a refusal (4xx) carries no stack, a fault (5xx) keeps its own; the stack limit is left as it was', async (t) => {
  const limit = Error.stackTraceLimit
  const refusal = new HttpError(409, 'SESSION_CONFLICT', 'bay 1 is taken by session 3')
  t.equal(refusal.stack, 'HttpError: bay 1 is taken by session 3', 'no frames captured')
  t.match(refusal, { statusCode: 409, code: 'SESSION_CONFLICT', message: 'bay 1 is taken by session 3', name: 'HttpError' })
  t.ok(refusal instanceof Error && refusal instanceof HttpError)
  const fault = new HttpError(500, 'INTERNAL', 'route has no role guard')
  t.match(fault.stack, /\n\s+at /, 'frames for what gets logged')
  t.equal(Error.stackTraceLimit, limit)
  t.match(new Error('after').stack, /\n\s+at /, 'other errors still capture theirs')
})

t.test('validation messages name the field', async (t) => {
  t.equal(validationMessage([{ instancePath: '/a/b/2', keyword: 'type', message: 'must be string' }], 'body'), 'body.a.b[2]: must be string')
  t.equal(validationMessage([{ instancePath: '', keyword: 'required', params: { requiredProperties: ['x'] } }], 'querystring'), 'query.x: is required')
  t.equal(validationMessage([], 'params'), 'params: is invalid')
})

t.test('unknown routes are JSON 404; a failing module gives a hidden 500', async (t) => {
  const w = await buildWorld(t)
  const missing = await w.app.inject({ url: '/api/nothing' })
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { error: 'NOT_FOUND', message: 'no route GET /api/nothing' })
  w.scheduling.list = () => {
    throw new Error('LevelDB exploded at /secret/path')
  }
  const res = await w.app.inject({ url: '/api/sessions', headers: auth('admin') })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { error: 'INTERNAL', message: 'internal error' })
})
