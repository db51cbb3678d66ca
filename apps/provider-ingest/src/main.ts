import type { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHttpApp } from '@hookhub/platform';
import { ProviderIngestAppModule } from './provider-ingest-app.module';
import type { ProviderIngestConfig } from './provider-ingest.config';

async function main(): Promise<void> {
  process.env.HOOKHUB_SERVICE ??= 'provider-ingest';
  const configOf = (app: INestApplication): ConfigService<ProviderIngestConfig, true> => app.get(ConfigService);
  const app = await createHttpApp(ProviderIngestAppModule.forRoot(), {
    rawBodyLimit: (a) => configOf(a).get('INGEST_BODY_LIMIT', { infer: true }),
  });
  const config = configOf(app);
  await app.listen(config.get('PROVIDER_INGEST_PORT', { infer: true }), '0.0.0.0');
}

void main();
