/**
 * The code cache file (src/lib/code-cache.ts, issue 17 start-up): only a whole file made for this
 * bundle, this Node and these flags is handed to V8. The hub's use of it is in test/build/bundle.test.ts.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { cacheFileName, cacheIdentity, decodeCache, encodeCache, readCache, writeCache } from '../../src/lib/code-cache.js'

const runtime = { execArgv: ['--max-semi-space-size=2'], nodeOptions: undefined }
const id = cacheIdentity('console.log(1)', runtime)
const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251))

t.test('a file round-trips for its own identity only', async (t) => {
  const file = encodeCache(id, data)
  t.same(decodeCache(file, id), data)
  t.equal(decodeCache(file, cacheIdentity('console.log(2)', runtime)), undefined, 'another bundle text')
  t.equal(decodeCache(file, cacheIdentity('console.log(1)', { execArgv: [], nodeOptions: undefined })), undefined, 'other flags')
  t.equal(decodeCache(file, cacheIdentity('console.log(1)', { execArgv: runtime.execArgv, nodeOptions: '--max-old-space-size=64' })), undefined, 'other NODE_OPTIONS')
  for (const key of ['node', 'v8', 'arch'] as const) t.equal(decodeCache(file, { ...id, [key]: 'other' }), undefined, `another ${key}`)
  t.not(cacheFileName(id), cacheFileName(cacheIdentity('console.log(1)', { execArgv: [], nodeOptions: undefined })), 'other flags keep a file of their own')
  t.equal(cacheFileName(id), cacheFileName(cacheIdentity('console.log(2)', runtime)), 'a new bundle replaces the file of its runtime')
})

t.test('a damaged file is never trusted', async (t) => {
  const file = encodeCache(id, data)
  const flipped = Buffer.from(file)
  flipped[flipped.length - 1]! ^= 1
  t.equal(decodeCache(flipped, id), undefined, 'a flipped payload byte')
  t.equal(decodeCache(file.subarray(0, file.length - 1), id), undefined, 'cut short')
  t.equal(decodeCache(Buffer.concat([file, Buffer.from([0])]), id), undefined, 'a byte more')
  t.equal(decodeCache(Buffer.from('not a cache'), id), undefined, 'another file')
  t.equal(decodeCache(Buffer.alloc(0), id), undefined, 'empty')
  const header = file.indexOf(0x0a) + 1
  t.equal(decodeCache(Buffer.concat([file.subarray(0, header), Buffer.from('{"source":\n'), data]), id), undefined, 'a header that is not JSON')
  t.equal(decodeCache(file.subarray(0, header + 5), id), undefined, 'no end of header')
})

t.test('written atomically, private, and read back', async (t) => {
  const dir = join(t.testdir(), 'code-cache')
  t.equal(readCache(dir, id), undefined, 'none yet')
  writeCache(dir, id, data)
  t.same(readCache(dir, id), data)
  t.equal(statSync(dir).mode & 0o777, 0o700)
  t.equal(statSync(join(dir, cacheFileName(id))).mode & 0o777, 0o600)
  // what a killed write left behind goes with the next write
  writeFileSync(join(dir, `${cacheFileName(id)}.12345.tmp`), 'half')
  writeCache(dir, id, data.subarray(0, 10))
  t.same(readdirSync(dir), [cacheFileName(id)])
  t.same(readCache(dir, id), data.subarray(0, 10))
  t.same(readFileSync(join(dir, cacheFileName(id))), encodeCache(id, data.subarray(0, 10)))
})
