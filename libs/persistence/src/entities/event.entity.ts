import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ChangeStatus, EventEnvelope } from '@hookhub/contracts';

/**
 * The append-only event log: one row per event, versioned per resource.
 * Partitioned by `recorded_at`; an event id is unique across partitions
 * because the recorder checks them all under the resource's lock.
 */
@Entity({ name: 'events' })
@Index(['tenantId', 'modelType', 'modelId', 'version'])
@Index(['tenantId', 'recordedAt'])
export class EventEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  type: string;

  @Column({ name: 'model_type', type: 'text' })
  modelType: string;

  @Column({ name: 'model_id', type: 'text' })
  modelId: string;

  @Column({ type: 'integer' })
  version: number;

  @Column({ name: 'change_status', type: 'text' })
  changeStatus: ChangeStatus;

  /** `json`, not `jsonb`: keeps the published bytes' key order for replays. */
  @Column({ type: 'json' })
  envelope: EventEnvelope;

  /** The version of its type's schema the event was published in (it travels beside the envelope, never in it). */
  @Column({ name: 'schema_version', type: 'integer', default: 1 })
  schemaVersion: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'recorded_at', type: 'timestamptz', default: () => 'now()' })
  recordedAt: Date;
}
