import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
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

/** Structured JSON logs (pino) for every app; one line per request at info level. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<BaseConfig, true>) => ({
        pinoHttp: {
          level: config.get('LOG_LEVEL', { infer: true }),
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
          customProps: () => ({ service: process.env.HOOKHUB_SERVICE ?? 'hookhub' }),
          transport: config.get('LOG_PRETTY', { infer: true }) ? { target: 'pino-pretty' } : undefined,
        },
      }),
    }),
  ],
})
export class LoggingModule {}
