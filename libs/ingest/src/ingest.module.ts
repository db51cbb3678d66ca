import { DynamicModule, FactoryProvider, Module } from '@nestjs/common';
import { PersistenceModule } from '@hookhub/persistence';
import { SigningModule } from '@hookhub/signing';
import { CallbackProcessor } from './callback-processor';
import { CallbackReceiver } from './callback-receiver';
import { ConnectionCredentials } from './connection-credentials';
import { DEFAULT_INGEST_SETTINGS, INGEST_SETTINGS, IngestSettings } from './ingest.settings';
import { IngestEventFactory } from './ingest-event-factory';
import { ProviderRegistry } from './provider-registry';
import { SubscriptionConfirmer } from './subscription-confirmer';

/**
 * Provider callbacks. `forRoot` receives and processes them (provider-ingest);
 * `forAdmin` gives the admin API what it needs to manage connections.
 * Both use the app's JetStream connection (JetstreamModule.forRoot in the importing app).
 */
@Module({})
export class IngestModule {
  /** `settings` builds the `IngestSettings` from the app's configuration. */
  static forRoot(settings: Omit<FactoryProvider<IngestSettings>, 'provide'>): DynamicModule {
    return {
      module: IngestModule,
      imports: [PersistenceModule, SigningModule],
      providers: [
        { ...settings, provide: INGEST_SETTINGS },
        ProviderRegistry,
        ConnectionCredentials,
        IngestEventFactory,
        SubscriptionConfirmer,
        CallbackProcessor,
        CallbackReceiver,
      ],
      exports: [CallbackReceiver, ProviderRegistry, ConnectionCredentials],
    };
  }

  static forAdmin(): DynamicModule {
    return {
      module: IngestModule,
      imports: [PersistenceModule, SigningModule],
      providers: [{ provide: INGEST_SETTINGS, useValue: DEFAULT_INGEST_SETTINGS }, ProviderRegistry, ConnectionCredentials],
      exports: [ProviderRegistry, ConnectionCredentials],
    };
  }
}
