import { ApiKeyRepository } from './api-key.repository';
import { DeliveryRepository } from './delivery.repository';
import { EventLogRepository } from './event-log.repository';
import { MessageLookupRepository } from './message-lookup.repository';
import { ProviderCallbackRepository } from './provider-callback.repository';
import { ProviderConnectionRepository } from './provider-connection.repository';
import { ResourceOrderRepository } from './resource-order.repository';
import { SubscriptionRepository } from './subscription.repository';
import { TenantRepository } from './tenant.repository';

export * from './api-key.repository';
export * from './delivery.repository';
export * from './event-log.repository';
export * from './message-lookup.repository';
export * from './provider-callback.repository';
export * from './provider-connection.repository';
export * from './resource-order.repository';
export * from './subscription.repository';
export * from './tenant.repository';

export const REPOSITORIES = [
  TenantRepository,
  ApiKeyRepository,
  SubscriptionRepository,
  EventLogRepository,
  DeliveryRepository,
  ProviderConnectionRepository,
  ProviderCallbackRepository,
  MessageLookupRepository,
  ResourceOrderRepository,
];
