import { ApiKeyRepository } from './api-key.repository';
import { DeliveryLogRepository } from './delivery-log.repository';
import { DeliveryOutcomeRepository } from './delivery-outcome.repository';
import { EventLogRepository } from './event-log.repository';
import { EventTypeRepository } from './event-type.repository';
import { FanOutRepository } from './fan-out.repository';
import { MessageLookupRepository } from './message-lookup.repository';
import { PortalSessionRepository } from './portal-session.repository';
import { SubscriptionHealthRepository } from './subscription-health.repository';
import { PartitionRepository } from './partition.repository';
import { RetentionRunRepository } from './retention-run.repository';
import { ProviderCallbackRepository } from './provider-callback.repository';
import { ProviderConnectionRepository } from './provider-connection.repository';
import { RateLineRepository } from './rate-line.repository';
import { ResourceOrderRepository } from './resource-order.repository';
import { RetryScheduleRepository } from './retry-schedule.repository';
import { StreamAuditRepository } from './stream-audit.repository';
import { SubscriptionRepository } from './subscription.repository';
import { TenantRepository } from './tenant.repository';

/** What PersistenceModule provides and exports; the lib's barrel names each one for its callers. */
export const REPOSITORIES = [
  TenantRepository,
  ApiKeyRepository,
  SubscriptionRepository,
  EventLogRepository,
  EventTypeRepository,
  FanOutRepository,
  DeliveryOutcomeRepository,
  RetryScheduleRepository,
  DeliveryLogRepository,
  ProviderConnectionRepository,
  ProviderCallbackRepository,
  MessageLookupRepository,
  ResourceOrderRepository,
  RateLineRepository,
  PartitionRepository,
  RetentionRunRepository,
  PortalSessionRepository,
  SubscriptionHealthRepository,
  StreamAuditRepository,
];
