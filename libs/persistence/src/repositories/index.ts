import { ApiKeyRepository } from './api-key.repository';
import { DeliveryLogRepository } from './delivery-log.repository';
import { DeliveryOutcomeRepository } from './delivery-outcome.repository';
import { EventLogRepository } from './event-log.repository';
import { FanOutRepository } from './fan-out.repository';
import { MessageLookupRepository } from './message-lookup.repository';
import { ProviderCallbackRepository } from './provider-callback.repository';
import { ProviderConnectionRepository } from './provider-connection.repository';
import { ResourceOrderRepository } from './resource-order.repository';
import { RetryScheduleRepository } from './retry-schedule.repository';
import { SubscriptionRepository } from './subscription.repository';
import { TenantRepository } from './tenant.repository';

export * from './api-key.repository';
export * from './delivery-log.repository';
export * from './delivery-outcome.repository';
export * from './event-log.repository';
export * from './fan-out.repository';
export type { Page } from './keyset';
export * from './message-lookup.repository';
export * from './provider-callback.repository';
export * from './provider-connection.repository';
export * from './resource-order.repository';
// cancelWaitingRetries stays inside the lib: only its repositories disable subscriptions.
export { awaitsAttempt, RetryScheduleRepository } from './retry-schedule.repository';
export type { DueRetry, RetryContext } from './retry-schedule.repository';
export * from './subscription.repository';
export * from './tenant.repository';

export const REPOSITORIES = [
  TenantRepository,
  ApiKeyRepository,
  SubscriptionRepository,
  EventLogRepository,
  FanOutRepository,
  DeliveryOutcomeRepository,
  RetryScheduleRepository,
  DeliveryLogRepository,
  ProviderConnectionRepository,
  ProviderCallbackRepository,
  MessageLookupRepository,
  ResourceOrderRepository,
];
