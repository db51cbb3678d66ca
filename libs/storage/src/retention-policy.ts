import { addDays, DAY_MS, type PartitionedTable, type TenantRetention } from '@hookhub/persistence';
import type { RetentionDays } from './storage.settings';

/** Which retention each partitioned table follows: attempts go with their deliveries. */
export const RETENTION_OF: Record<PartitionedTable, keyof RetentionDays> = {
  events: 'events',
  deliveries: 'deliveries',
  delivery_attempts: 'deliveries',
  provider_callbacks: 'callbacks',
};

/**
 * When a day partition expires: once its newest possible row is older than
 * the retention. A row is therefore kept at least its retention and at most
 * one day (plus the run interval) longer.
 */
export function expiresAt(p: { table: PartitionedTable; day: Date }, days: RetentionDays): Date {
  return addDays(p.day, 1 + days[RETENTION_OF[p.table]]);
}

export function isExpired(p: { table: PartitionedTable; day: Date }, days: RetentionDays, now: Date): boolean {
  return expiresAt(p, days).getTime() <= now.getTime();
}

/**
 * The moment before which a tenant's rows go, per table, for the kinds where
 * the tenant keeps less than the deployment (null: the partitions' expiry
 * handles it). Overrides can only shorten: the partitions hold every tenant.
 */
export function tenantCutoffs(override: TenantRetention, days: RetentionDays, now: Date): Record<PartitionedTable, Date | null> {
  const cutoff = (kind: keyof RetentionDays): Date | null => {
    const own = override[kind];
    return own !== null && own < days[kind] ? new Date(now.getTime() - own * DAY_MS) : null;
  };
  return {
    events: cutoff('events'),
    deliveries: cutoff('deliveries'),
    delivery_attempts: cutoff('deliveries'),
    provider_callbacks: cutoff('callbacks'),
  };
}
