/**
 * `node dist/main.js`: load settings, start the hub, stop gracefully on SIGTERM/SIGINT.
 * All construction happens in createHub (src/hub.ts); this file only owns the process.
 */
import { ConfigError, loadConfig } from './config/index.js'
import { createHub } from './hub.js'
import { createLogger } from './lib/logger.js'
import { HUB_STARTED, type HubStartedHook } from './lib/code-cache.js'

async function main(): Promise<void> {
  // Everything the hub writes (LevelDB folders and files, credentials, admin token) is private:
  // folders 0700, files 0600, whatever the service manager's umask.
  process.umask(0o077)
  let config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`dispenser-hub: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  const log = createLogger(config.logLevel)
  const hub = await createHub({ config, log })
  // src/boot.ts makes the code cache now, when it needs one (it holds what the start compiled)
  const started = (globalThis as Record<symbol, unknown>)[HUB_STARTED]
  if (typeof started === 'function') {
    const written = (error?: unknown) => (error ? log.warn({ err: error }, 'code cache not written; the next start compiles the hub from source') : log.info('code cache written'))
    log.info({ codeCache: (started as HubStartedHook)(config.dataDir, written) }, 'code cache')
  }

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'stopping')
    // A stuck close must not keep a service manager waiting forever.
    setTimeout(() => {
      log.error('graceful stop timed out; exiting')
      process.exit(1)
    }, 10_000).unref()
    hub.close().then(
      () => {
        log.info('stopped')
        process.exit(0)
      },
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((error: unknown) => {
  process.stderr.write(`dispenser-hub: failed to start: ${(error as Error)?.stack ?? String(error)}\n`)
  process.exit(1)
})
