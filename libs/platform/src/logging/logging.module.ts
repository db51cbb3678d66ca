import { DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import type { BaseConfig } from '../config/base-config';
import { baseLoggerOptions, logStream } from './log-output';

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

/** A request in a few words, so that pretty logs read "GET /v1/tenants 201 4 ms" without printing its objects. */
function requestLine(req: IncomingMessage, res: ServerResponse): string {
  return `${req.method ?? ''} ${(req.url ?? '').split('?')[0]} ${res.statusCode}`;
}

/**
 * Structured JSON logs (pino) for every app, or readable lines with LOG_PRETTY (development);
 * one line per request at info level.
 */
@Module({})
export class LoggingModule {
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
              autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
              customSuccessMessage: (req, res, responseTime) => `${requestLine(req, res)} ${Math.round(responseTime)} ms`,
              customErrorMessage: (req, res, err) => `${requestLine(req, res)}: ${err.message}`,
            };
            const stream = logStream({
              level: config.get('LOG_LEVEL', { infer: true }),
              pretty: config.get('LOG_PRETTY', { infer: true }),
              destination: config.get('LOG_DESTINATION', { infer: true }),
            });
            return { pinoHttp: [pinoOptions, stream] };
          },
        }),
      ],
    };
  }
}
