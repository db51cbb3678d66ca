import { DynamicModule, Module } from '@nestjs/common';
import { EndpointToolsModule } from '@hookhub/delivery';
import { EventCatalogueModule } from '@hookhub/event-catalogue';
import { IngestModule } from '@hookhub/ingest';
import { EventsStreamBootstrap, JetstreamModule } from '@hookhub/jetstream';
import { PersistenceModule } from '@hookhub/persistence';
import { appFoundation } from '@hookhub/platform';
import { SigningModule } from '@hookhub/signing';
import { StorageModule } from '@hookhub/storage';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { ApiKeysService } from './api-keys/api-keys.service';
import { AdminTokenGuard } from './auth/admin-token.guard';
import { ApiKeyGuard } from './auth/api-key.guard';
import { DeliveriesController } from './deliveries/deliveries.controller';
import { DeliveriesService } from './deliveries/deliveries.service';
import { EventTypesController, PlatformEventTypesController } from './event-types/event-types.controller';
import { EventTypesService } from './event-types/event-types.service';
import { OptionalApiKeyGuard } from './auth/optional-api-key.guard';
import { EventsController } from './events/events.controller';
import { EventsService } from './events/events.service';
import { SubscriptionHealthController } from './health/subscription-health.controller';
import { PortalSessionsController, WhoAmIController } from './portal-sessions/portal-sessions.controller';
import { PortalSessionsService } from './portal-sessions/portal-sessions.service';
import { ProviderConnectionsController } from './provider-connections/provider-connections.controller';
import { ProviderConnectionsService } from './provider-connections/provider-connections.service';
import { ResourcesController } from './resources/resources.controller';
import { ResourcesService } from './resources/resources.service';
import { StorageController } from './storage/storage.controller';
import { StorageService } from './storage/storage.service';
import { SubscriptionsController } from './subscriptions/subscriptions.controller';
import { SubscriptionsService } from './subscriptions/subscriptions.service';
import { SubscriptionsConfig } from './subscriptions.config';
import { TenantsController } from './tenants/tenants.controller';
import { TenantsService } from './tenants/tenants.service';

/** The `service` field of this app's log lines and the name of its NATS connection. */
const SERVICE = 'subscriptions';

/** The REST admin API, event publishing and the resource API. */
@Module({})
export class SubscriptionsAppModule {
  static forRoot(overrides: Record<string, string | number | boolean> = {}): DynamicModule {
    return {
      module: SubscriptionsAppModule,
      imports: [
        ...appFoundation(SERVICE, SubscriptionsConfig, overrides),
        PersistenceModule,
        EventCatalogueModule,
        JetstreamModule.forRoot({ connectionName: SERVICE }),
        SigningModule,
        EndpointToolsModule,
        IngestModule.forAdmin(),
        StorageModule.forRoot(),
      ],
      controllers: [
        TenantsController,
        StorageController,
        ApiKeysController,
        SubscriptionsController,
        DeliveriesController,
        EventsController,
        EventTypesController,
        PlatformEventTypesController,
        ResourcesController,
        ProviderConnectionsController,
        PortalSessionsController,
        WhoAmIController,
        SubscriptionHealthController,
      ],
      providers: [
        EventsStreamBootstrap,
        AdminTokenGuard,
        ApiKeyGuard,
        OptionalApiKeyGuard,
        TenantsService,
        ApiKeysService,
        SubscriptionsService,
        DeliveriesService,
        EventsService,
        EventTypesService,
        ResourcesService,
        ProviderConnectionsService,
        StorageService,
        PortalSessionsService,
      ],
    };
  }
}
