import { ConfigService } from '@nestjs/config';
import type { BaseConfig } from '@hookhub/platform';

/** What history the hub keeps and how its partitions are looked after (see BaseConfig's storage variables). */
export interface StorageSettings {
  retentionDays: RetentionDays;
  aheadDays: number;
  intervalMs: number;
  deleteBatch: number;
  deleteBatchesPerRun: number;
}

/** Days kept, per kind of history: the event log, the delivery log (deliveries and attempts), provider callbacks. */
export interface RetentionDays {
  events: number;
  deliveries: number;
  callbacks: number;
}

export const STORAGE_SETTINGS = Symbol('STORAGE_SETTINGS');

export function storageSettings(config: ConfigService<BaseConfig, true>): StorageSettings {
  return {
    retentionDays: {
      events: config.get('EVENTS_RETENTION_DAYS', { infer: true }),
      deliveries: config.get('DELIVERIES_RETENTION_DAYS', { infer: true }),
      callbacks: config.get('CALLBACKS_RETENTION_DAYS', { infer: true }),
    },
    aheadDays: config.get('PARTITIONS_AHEAD_DAYS', { infer: true }),
    intervalMs: config.get('RETENTION_INTERVAL_MS', { infer: true }),
    deleteBatch: config.get('RETENTION_DELETE_BATCH', { infer: true }),
    deleteBatchesPerRun: config.get('RETENTION_DELETE_BATCHES_PER_RUN', { infer: true }),
  };
}
