/**
 * The request logger Fastify gives every request (`request.log`, bindings `{ reqId }`), made when
 * first needed (issue 17). Fastify's default makes a pino child per request: the bindings are
 * serialised into the child's chindings string at once, ~1 % of a booking's CPU, though at the
 * default level nothing logs per request (request logging is debug, src/interfaces/http/app.ts).
 * Here a level method asks the parent whether the level is on and makes the child only then, so
 * a line written is the same as with the default factory (same bindings, same level, same
 * serializers). Options that change the child itself (a route's own level or serializers) make it
 * at once.
 */
import type { FastifyBaseLogger } from 'fastify'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

interface ChildOptions {
  level?: string
  serializers?: unknown
}

interface PinoLike extends FastifyBaseLogger {
  isLevelEnabled(level: string): boolean
}

class LazyChild {
  #parent: PinoLike
  #bindings: Record<string, unknown>
  #options: ChildOptions
  #child: PinoLike | undefined

  constructor(parent: PinoLike, bindings: Record<string, unknown>, options: ChildOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  /** the request's own pino child, made once */
  #real(): PinoLike {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options as never) as PinoLike)
  }

  #write(level: Level, args: unknown[]): void {
    // Until the child exists its level is the parent's: the parent's check says whether it would write.
    if (!(this.#child ?? this.#parent).isLevelEnabled(level)) return
    ;(this.#real()[level] as (...a: unknown[]) => void)(...args)
  }

  // Prototype methods: a request makes one small object, no closures.
  fatal(...args: unknown[]): void {
    this.#write('fatal', args)
  }

  error(...args: unknown[]): void {
    this.#write('error', args)
  }

  warn(...args: unknown[]): void {
    this.#write('warn', args)
  }

  info(...args: unknown[]): void {
    this.#write('info', args)
  }

  debug(...args: unknown[]): void {
    this.#write('debug', args)
  }

  trace(...args: unknown[]): void {
    this.#write('trace', args)
  }

  silent(): void {}

  get level(): string {
    return (this.#child ?? this.#parent).level
  }

  set level(level: string) {
    this.#real().level = level
  }

  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.#parent).isLevelEnabled(level)
  }

  bindings(): Record<string, unknown> {
    return (this.#real() as unknown as { bindings(): Record<string, unknown> }).bindings()
  }

  child(bindings: Record<string, unknown>, options?: ChildOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options as never)
  }
}

/** Fastify's `childLoggerFactory` (same signature as its default, which calls `logger.child`). */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Record<string, unknown>, options: ChildOptions): FastifyBaseLogger {
  const parent = logger as PinoLike
  if (options.level !== undefined || options.serializers !== undefined || typeof parent.isLevelEnabled !== 'function') return logger.child(bindings, options as never)
  return new LazyChild(parent, bindings, options) as unknown as FastifyBaseLogger
}
