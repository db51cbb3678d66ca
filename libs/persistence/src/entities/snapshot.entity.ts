import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The latest model of each resource; a deletion clears `model` and sets `deletedAt`. */
@Entity({ name: 'snapshots' })
export class SnapshotEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @PrimaryColumn({ name: 'model_type', type: 'text' })
  modelType: string;

  @PrimaryColumn({ name: 'model_id', type: 'text' })
  modelId: string;

  @Column({ type: 'integer' })
  version: number;

  @Column({ type: 'json', nullable: true })
  model: Record<string, unknown> | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  @Column({ name: 'last_event_id', type: 'text', nullable: true })
  lastEventId: string | null;

  /** `created_at` of the event the model came from: an older event arriving late never overwrites a newer model. */
  @Column({ name: 'source_created_at', type: 'timestamptz', nullable: true })
  sourceCreatedAt: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
