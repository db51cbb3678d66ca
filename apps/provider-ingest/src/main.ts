import { runApp } from '@hookhub/platform';
import { buildProviderIngestApp } from './build-provider-ingest-app';
import { ProviderIngestConfig } from './provider-ingest.config';

void runApp({
  service: 'provider-ingest',
  config: ProviderIngestConfig,
  portVariable: 'PROVIDER_INGEST_PORT',
  build: () => buildProviderIngestApp(),
  ready: (url) => `listening on ${url}, provider callbacks at ${url}/ingest/<provider>/<connection id>`,
});
