import { DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { destination } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import type { BaseConfig } from '../config/base-config';

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

/** Structured JSON logs (pino) for every app; one line per request at info level. */
@Module({})
export class LoggingModule {
  static forRoot(options: LoggingOptions): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<BaseConfig, true>) => {
            const target = config.get('LOG_DESTINATION', { infer: true });
            const file = target === 'stdout' ? undefined : target;
            const pretty = config.get('LOG_PRETTY', { infer: true });
            const pinoOptions: PinoHttpOptions = {
              level: config.get('LOG_LEVEL', { infer: true }),
              redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
              serializers: { req: serializeRequest },
              autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
              customProps: () => ({ service: options.service }),
              transport: pretty ? { target: 'pino-pretty', options: { destination: file ?? 1, mkdir: true } } : undefined,
            };
            // Synchronous writes: a line is in the file when the call returns, however the process ends.
            return { pinoHttp: file && !pretty ? [pinoOptions, destination({ dest: file, mkdir: true, sync: true })] : pinoOptions };
          },
        }),
      ],
    };
  }
}
