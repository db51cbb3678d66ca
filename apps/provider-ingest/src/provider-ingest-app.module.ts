import { DynamicModule, Module } from '@nestjs/common';
import { JetstreamModule } from '@hookhub/jetstream';
import { PersistenceModule } from '@hookhub/persistence';
import { configModuleFor, HealthModule, LoggingModule } from '@hookhub/platform';
import { ProviderIngestConfig } from './provider-ingest.config';

/**
 * Incoming provider webhooks. This release wires the app (configuration,
 * NATS, PostgreSQL, health); the provider endpoints come with the ingest issue.
 */
@Module({})
export class ProviderIngestAppModule {
  static forRoot(overrides: Record<string, string | number | boolean> = {}): DynamicModule {
    return {
      module: ProviderIngestAppModule,
      imports: [configModuleFor(ProviderIngestConfig, overrides), LoggingModule, HealthModule, PersistenceModule, JetstreamModule],
    };
  }
}
