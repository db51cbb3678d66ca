import { DynamicModule, Inject, Injectable, MiddlewareConsumer, Module, NestMiddleware, NestModule, RequestMethod } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { LoggerModule } from 'nestjs-pino';
import { pino, type Logger } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import type { BaseConfig } from '../config/base-config';
import { baseLoggerOptions, LogSettings, logStream } from './log-output';

/** Header and body paths whose values must never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-admin-token"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.secret',
  '*.secrets',
  '*.key',
  '*.verify_token',
];

/** Request headers worth logging; the rest may carry credentials (custom auth headers of providers, tokens). */
const LOGGED_HEADERS = ['host', 'user-agent', 'content-type', 'content-length', 'x-request-id', 'x-forwarded-for'];

interface SerializedRequest {
  id?: unknown;
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  remoteAddress?: string;
}

/**
 * Logs a request by its path only: query strings can hold secrets (Meta's
 * `hub.verify_token`, signed receipt parameters), and only known-safe headers.
 */
export function serializeRequest(req: SerializedRequest): SerializedRequest {
  const headers: Record<string, unknown> = {};
  for (const name of LOGGED_HEADERS) if (req.headers?.[name] !== undefined) headers[name] = req.headers[name];
  return { id: req.id, method: req.method, url: req.url?.split('?')[0], headers, remoteAddress: req.remoteAddress };
}

export interface LoggingOptions {
  /** The `service` field of every line: which app wrote it. */
  service: string;
}

/** Paths polled by probes and scrapers: not worth a line each. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** A request in a few words, so that pretty logs read "GET /v1/tenants 201 4 ms" without printing its objects. */
function requestLine(req: IncomingMessage, res: ServerResponse): string {
  return `${req.method ?? ''} ${(req.url ?? '').split('?')[0]} ${res.statusCode}`;
}

let lastRequestId = 0;

/** The logger of the request lines (see RequestLogMiddleware). */
const REQUEST_LOGGER = Symbol('REQUEST_LOGGER');

/**
 * One line per request, when its response is finished (or the connection
 * closed first): `req` (serializeRequest: method, path, safe headers), the
 * status, the time taken; at error level for a 5xx. This replaces pino-http's
 * middleware and nestjs-pino's per-request context, which cost a fifth of the
 * API's CPU per request under load (a child logger with the serialized
 * request per request, and an AsyncLocalStorage whose promise hooks tax every
 * promise of the request). Lines logged while a request is handled therefore
 * carry no `req` of their own: the request line says which request it was,
 * and ProblemFilter's error lines name the path. The line is built only of
 * fields known to be safe, so its logger skips redaction (2 % of the CPU of a
 * request when it did not).
 */
@Injectable()
class RequestLogMiddleware implements NestMiddleware {
  constructor(@Inject(REQUEST_LOGGER) private readonly logger: Logger) {}

  use(req: IncomingMessage & { id?: unknown }, res: ServerResponse, next: () => void): void {
    const logger = this.logger;
    if (!logger.isLevelEnabled('info') || QUIET_PATHS.has(req.url ?? '')) return next();
    req.id ??= ++lastRequestId;
    const started = performance.now();
    const done = (): void => {
      res.off('finish', done);
      res.off('close', done);
      const ms = Math.round(performance.now() - started);
      const line = {
        req: serializeRequest({ id: req.id, method: req.method, url: req.url, headers: req.headers, remoteAddress: req.socket?.remoteAddress }),
        res: { statusCode: res.statusCode },
        responseTime: ms,
      };
      if (res.statusCode >= 500) logger.error(line, `${requestLine(req, res)} ${ms} ms`);
      else logger.info(line, `${requestLine(req, res)} ${ms} ms`);
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  }
}

const logSettings = (config: ConfigService<BaseConfig, true>): LogSettings => ({
  level: config.get('LOG_LEVEL', { infer: true }),
  pretty: config.get('LOG_PRETTY', { infer: true }),
  destination: config.get('LOG_DESTINATION', { infer: true }),
});

/**
 * Structured JSON logs (pino) for every app, or readable lines with LOG_PRETTY (development);
 * one line per request at info level (RequestLogMiddleware).
 */
@Module({})
export class LoggingModule implements NestModule {
  static forRoot(options: LoggingOptions): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<BaseConfig, true>) => {
            const pinoOptions: PinoHttpOptions = {
              ...baseLoggerOptions(options.service, config.get('LOG_LEVEL', { infer: true })),
              redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
              serializers: { req: serializeRequest },
            };
            // nestjs-pino makes the app's logger (PinoLogger.root) of these; its request middleware is bound
            // to no route (RequestLogMiddleware writes the request lines).
            return { pinoHttp: [pinoOptions, logStream(logSettings(config))], forRoutes: [] };
          },
        }),
      ],
      providers: [
        {
          provide: REQUEST_LOGGER,
          inject: [ConfigService],
          useFactory: (config: ConfigService<BaseConfig, true>): Logger =>
            pino(baseLoggerOptions(options.service, config.get('LOG_LEVEL', { infer: true })), logStream(logSettings(config))),
        },
        RequestLogMiddleware,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLogMiddleware).forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}
