import { pino, type Logger } from 'pino'

export type { Logger }

/** The one root logger; modules get `log.child({ module })`. Secrets never reach the log. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: { app: 'dispenser-hub' },
    redact: {
      paths: ['req.headers.authorization', 'password', '*.password', 'secret', '*.secret', 'token', '*.token'],
      censor: '[redacted]',
    },
  }
  return destination ? pino(options, destination) : pino(options)
}
