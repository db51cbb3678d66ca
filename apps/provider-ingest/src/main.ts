import { ConfigService } from '@nestjs/config';
import { createHttpApp } from '@hookhub/platform';
import { ProviderIngestAppModule } from './provider-ingest-app.module';
import type { ProviderIngestConfig } from './provider-ingest.config';

async function main(): Promise<void> {
  process.env.HOOKHUB_SERVICE ??= 'provider-ingest';
  const app = await createHttpApp(ProviderIngestAppModule.forRoot());
  const config = app.get<ConfigService<ProviderIngestConfig, true>>(ConfigService);
  await app.listen(config.get('PROVIDER_INGEST_PORT', { infer: true }), '0.0.0.0');
}

void main();
