import { ConfigService } from '@nestjs/config';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createHttpApp } from '@hookhub/platform';
import { ProviderIngestAppModule } from './provider-ingest-app.module';
import type { ProviderIngestConfig } from './provider-ingest.config';

/**
 * provider-ingest exactly as it serves, not yet listening: main.ts and the
 * tests both build it here. Bodies stay raw bytes (signatures are computed
 * over them) up to `INGEST_BODY_LIMIT`. `overrides` win over the environment.
 */
export function buildProviderIngestApp(overrides: Record<string, string | number | boolean> = {}): Promise<NestExpressApplication> {
  return createHttpApp(ProviderIngestAppModule.forRoot(overrides), {
    rawBodyLimit: (app) => app.get<ConfigService<ProviderIngestConfig, true>>(ConfigService).get('INGEST_BODY_LIMIT', { infer: true }),
    // A provider callback starts the trace of the events made of it (docs/tracing.md).
    tracedRoutes: [{ method: 'POST', path: /^\/ingest\/[^/]+\/[^/]+$/, route: '/ingest/:provider/:connectionId' }],
  });
}
