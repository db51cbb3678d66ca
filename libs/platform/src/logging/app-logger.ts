import type { LoggerService } from '@nestjs/common';

/** Nest's own start-up chatter: a line per module, per controller and per route (about a hundred for the admin API). */
const CHATTY_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/**
 * The app's Nest logger (nestjs-pino's) with Nest's start-up chatter moved down to verbose (pino's trace),
 * so that at info or debug a start-up is a handful of lines ending in the app's ready line. Everything else
 * passes through.
 */
export class AppLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (typeof context === 'string' && CHATTY_CONTEXTS.has(context)) this.inner.verbose?.(message, ...rest);
    else this.inner.log(message, ...rest);
  }

  /** NestApplication's own error is a failed listen(), which the launcher reports in its one line (runApp). */
  error(message: unknown, ...rest: unknown[]): void {
    if (rest[rest.length - 1] === 'NestApplication') this.inner.debug?.(message, ...rest);
    else this.inner.error(message, ...rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.inner.warn(message, ...rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.inner.debug?.(message, ...rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.inner.verbose?.(message, ...rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    (this.inner.fatal ?? this.inner.error).call(this.inner, message, ...rest);
  }
}
