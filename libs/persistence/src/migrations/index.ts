import { InitialSchema1764000000000 } from './1764000000000-initial-schema';
import { ParkedRetries1764000000001 } from './1764000000001-parked-retries';
import { ProviderIngest1764000000002 } from './1764000000002-provider-ingest';
import { DeliveryFillfactor1764000000003 } from './1764000000003-delivery-fillfactor';
import { ResourceOrder1764000000004 } from './1764000000004-resource-order';
import { FailingSince1764000000005 } from './1764000000005-failing-since';
import { TicketChildren1764000000006 } from './1764000000006-ticket-children';
import { TimePartitions1764000000007 } from './1764000000007-time-partitions';
import { TenantRetention1764000000008 } from './1764000000008-tenant-retention';
import { EventTypeRegistry1764000000009 } from './1764000000009-event-type-registry';
import { SubscriptionFilters1764000000010 } from './1764000000010-subscription-filters';
import { RateLimits1764000000011 } from './1764000000011-rate-limits';
import { PortalSessions1764000000012 } from './1764000000012-portal-sessions';
import { DeliveryTraceParent1764000000013 } from './1764000000013-delivery-trace-parent';
import { LostWorkRecovery1764000000014 } from './1764000000014-lost-work-recovery';

/** Every migration, oldest first. New ones are appended here. */
export const MIGRATIONS = [
  InitialSchema1764000000000,
  ParkedRetries1764000000001,
  ProviderIngest1764000000002,
  DeliveryFillfactor1764000000003,
  ResourceOrder1764000000004,
  FailingSince1764000000005,
  TicketChildren1764000000006,
  TimePartitions1764000000007,
  TenantRetention1764000000008,
  EventTypeRegistry1764000000009,
  SubscriptionFilters1764000000010,
  RateLimits1764000000011,
  PortalSessions1764000000012,
  DeliveryTraceParent1764000000013,
  LostWorkRecovery1764000000014,
];
