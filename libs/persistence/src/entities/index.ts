import { ApiKeyEntity } from './api-key.entity';
import { DeliveryAttemptEntity } from './delivery-attempt.entity';
import { DeliveryEntity } from './delivery.entity';
import { EventEntity } from './event.entity';
import { ProviderCallbackEntity } from './provider-callback.entity';
import { ProviderConnectionEntity } from './provider-connection.entity';
import { SnapshotEntity } from './snapshot.entity';
import { SubscriptionEntity } from './subscription.entity';
import { TenantEntity } from './tenant.entity';

export * from './api-key.entity';
export * from './delivery-attempt.entity';
export * from './delivery.entity';
export * from './event.entity';
export * from './provider-callback.entity';
export * from './provider-connection.entity';
export * from './snapshot.entity';
export * from './subscription.entity';
export * from './tenant.entity';

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
];
