/**
 * `node dist/main.js`, the process entry (issue 17, start-up): loads the hub's bundle,
 * dist/hub.cjs (src/main.ts and everything it uses, scripts/build.mjs: one function expression,
 * CommonJS's wrapper), with V8's code cache in the data dir, `<HUB_DATA_DIR>/code-cache/`, so a
 * start deserializes V8's code instead of compiling 2.6 MB of JavaScript again.
 *
 * The bundle is compiled as a vm.Script with V8's cachedData (src/lib/code-cache.ts verifies the
 * file first; V8 may still reject it), on every Node: Node 20 has no compile cache of its own, and
 * this one also holds the functions the start compiled, not only the top level. The cache is made
 * after the hub says it is up, in its first quiet second; only when there was none or V8 rejected it.
 *
 * The data dir comes from HUB_DATA_DIR (default ./data, as the settings). With only HUB_CONFIG
 * naming it, it is known after the settings are read, inside the bundle: then no cache.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Script } from 'node:vm'
import { cacheIdentity, HUB_STARTED, readCache, writeCache, type CodeCacheStatus, type HubStartedHook } from './lib/code-cache.js'

const WRITE_AFTER_MS = 1000
/** event-loop utilization below which a second counts as quiet */
const QUIET_UTILIZATION = 0.2
const MAX_WAITS = 60

// What the hub writes is private (src/main.ts sets the same): the cache folder included.
process.umask(0o077)
const bundle = join(dirname(fileURLToPath(import.meta.url)), 'hub.cjs')
const dataDir = process.env.HUB_DATA_DIR || (process.env.HUB_CONFIG ? undefined : './data')
const cacheDir = dataDir === undefined ? undefined : join(resolve(dataDir), 'code-cache')
runWithCodeCache()

/** What src/main.ts calls once the hub is up; it logs what the start did with the cache. */
function started(hook: HubStartedHook): void {
  ;(globalThis as Record<symbol, unknown>)[HUB_STARTED] = hook
}

function runWithCodeCache(): void {
  const source = readFileSync(bundle, 'utf8')
  const id = cacheIdentity(source)
  const cached = cacheDir === undefined ? undefined : readCache(cacheDir, id)
  const script = new Script(source, { filename: bundle, ...(cached && { cachedData: cached }) })
  const status: CodeCacheStatus = cacheDir === undefined ? 'off' : !cached ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'used'
  started((hubDataDir, written) => {
    if (cacheDir === undefined || status === 'used') return status
    if (join(resolve(hubDataDir), 'code-cache') !== cacheDir) return 'off'
    // Serializing the code blocks the event loop for tens of ms: done in a quiet second, not
    // while the hub is busy (bookings and controls right after a start), at the latest after a minute.
    const whenQuiet = (tries: number) => {
      const before = performance.eventLoopUtilization()
      setTimeout(() => {
        if (performance.eventLoopUtilization(before).utilization > QUIET_UTILIZATION && tries < MAX_WAITS) return whenQuiet(tries + 1)
        try {
          writeCache(cacheDir, id, script.createCachedData())
          written()
        } catch (error) {
          // read-only or full: the next start compiles from source, as without a cache
          written(error)
        }
      }, WRITE_AFTER_MS).unref()
    }
    whenQuiet(0)
    return status
  })
  const module = { exports: {} }
  ;(script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle))
}
