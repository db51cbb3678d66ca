import { ApiKeyEntity } from './api-key.entity';
import { DeliveryAttemptEntity } from './delivery-attempt.entity';
import { DeliveryEntity } from './delivery.entity';
import { EventEntity } from './event.entity';
import { PortalSessionEntity } from './portal-session.entity';
import { ProviderCallbackEntity } from './provider-callback.entity';
import { ProviderConnectionEntity } from './provider-connection.entity';
import { SnapshotEntity } from './snapshot.entity';
import { SubscriptionEntity } from './subscription.entity';
import { TenantEntity } from './tenant.entity';

/** Every entity TypeORM maps: the data source (migrations, tests) and the module's connection. */
export const ENTITIES = [
  TenantEntity,
  ApiKeyEntity,
  SubscriptionEntity,
  EventEntity,
  SnapshotEntity,
  DeliveryEntity,
  DeliveryAttemptEntity,
  ProviderConnectionEntity,
  ProviderCallbackEntity,
  PortalSessionEntity,
];
