import { ConfigService } from '@nestjs/config';
import { buildProviderIngestApp } from './build-provider-ingest-app';
import type { ProviderIngestConfig } from './provider-ingest.config';

async function main(): Promise<void> {
  const app = await buildProviderIngestApp();
  const config = app.get<ConfigService<ProviderIngestConfig, true>>(ConfigService);
  await app.listen(config.get('PROVIDER_INGEST_PORT', { infer: true }), '0.0.0.0');
}

void main();
