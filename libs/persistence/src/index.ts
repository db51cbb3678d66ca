// The module: every app imports it, and so do the event-store, delivery and ingest modules.
export { PersistenceModule } from './persistence.module';
// Entities and their column values: the admin API's DTOs and responses, delivery and ingest.
export { API_KEY_ROLES, ApiKeyEntity, type ApiKeyRole } from './entities/api-key.entity';
export { DeliveryAttemptEntity } from './entities/delivery-attempt.entity';
export { DELIVERY_STATUSES, DeliveryEntity, type DeliveryStatus } from './entities/delivery.entity';
export { ProviderCallbackEntity, type CallbackState } from './entities/provider-callback.entity';
export { ProviderConnectionEntity } from './entities/provider-connection.entity';
export type { SnapshotEntity } from './entities/snapshot.entity';
export {
  DEFAULT_RETRY_POLICY_MS,
  DELIVERY_ORDERINGS,
  PAYLOAD_FORMATS,
  SIGNATURE_SCHEMES,
  SUBSCRIPTION_STATES,
  SubscriptionEntity,
  type DeliveryOrdering,
  type PayloadFormat,
  type SignatureScheme,
  type SubscriptionState,
} from './entities/subscription.entity';
export { TenantEntity } from './entities/tenant.entity';
export { PORTAL_SESSION_ROLES, PortalSessionEntity, type PortalSessionRole } from './entities/portal-session.entity';
// Tenants, keys and subscriptions: the admin API, and delivery's sender checks, fan-out and disable notices.
export { TenantRepository, type TenantRetention } from './repositories/tenant.repository';
export { ApiKeyRepository } from './repositories/api-key.repository';
export { SubscriptionRepository } from './repositories/subscription.repository';
export { PORTAL_TOKEN_PREFIX, PortalSessionRepository, type PortalSessionLookup } from './repositories/portal-session.repository';
export type { Page } from './repositories/keyset';
// The event log: event-store records into it; the admin API and redelivery read it.
export { EventLogRepository, type LockedSnapshot, type NewEventRow, type ResourceKey, type SnapshotWrite } from './repositories/event-log.repository';
// Event types defined through the API: the event catalogue's registry and the admin API.
export {
  EventTypeRepository,
  type EventTypeRecord,
  type EventTypeVersionRecord,
  type NewEventType,
  type NewEventTypeVersion,
} from './repositories/event-type.repository';
// Deliveries, by caller: delivery's fan-out, attempt outcomes, retry schedule and resource order; the admin API's delivery log.
export { FanOutRepository, type ExistingDelivery, type NewDeliveryRow } from './repositories/fan-out.repository';
export { DeliveryOutcomeRepository, type AttemptRecord, type DisabledSubscription } from './repositories/delivery-outcome.repository';
export {
  awaitsAttempt,
  RetryScheduleRepository,
  type DueRetry,
  type OverdueSweepResult,
  type QueuedAttempt,
  type RetryContext,
} from './repositories/retry-schedule.repository';
export { ResourceOrderRepository } from './repositories/resource-order.repository';
export {
  RATE_WAITING_REASON,
  RateLineRepository,
  type LeasedDelivery,
  type RateBudgetState,
  type RateLease,
  type RateLeasePlan,
} from './repositories/rate-line.repository';
export { DeliveryLogRepository } from './repositories/delivery-log.repository';
export { SubscriptionHealthRepository, type AttemptStats, type SubscriptionHealthRows } from './repositories/subscription-health.repository';
export { StreamAuditRepository } from './repositories/stream-audit.repository';
// Provider connections, callbacks and message lookup: ingest and the admin API.
export { ProviderConnectionRepository } from './repositories/provider-connection.repository';
export { ProviderCallbackRepository, type NewCallback } from './repositories/provider-callback.repository';
export { MessageLookupRepository, type MessageRef } from './repositories/message-lookup.repository';
// The time-partitioned tables: storage's partition upkeep, retention and report.
export { PartitionRepository, type DeletedRows, type PartitionInfo } from './repositories/partition.repository';
export { RetentionRunRepository, type RetentionRunRow } from './repositories/retention-run.repository';
export {
  addDays,
  createPartitionSql,
  DAY_MS,
  dayOf,
  daysBetween,
  isoDay,
  PARTITIONED_TABLE_NAMES,
  PARTITIONED_TABLES,
  partitionName,
  type PartitionedTable,
} from './partitions/partition-calendar';
