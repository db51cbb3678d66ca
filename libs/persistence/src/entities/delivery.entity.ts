import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const DELIVERY_STATUSES = ['pending', 'retrying', 'delivered', 'failed', 'blocked', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One (event, subscription) pair; created once however often the event is
 * redelivered (the fan-out checks under the resource's lock: the table is
 * partitioned by `created_at`, so no unique index spans it).
 */
@Entity({ name: 'deliveries' })
@Index(['subscriptionId', 'eventId'])
@Index(['subscriptionId', 'createdAt'])
export class DeliveryEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'subscription_id', type: 'uuid' })
  subscriptionId: string;

  @Column({ name: 'event_id', type: 'text' })
  eventId: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType: string;

  @Column({ type: 'text' })
  status: DeliveryStatus;

  /** `<model type>/<model id>` of the event: deliveries of one resource go out in `resourceVersion` order. */
  @Column({ type: 'text', nullable: true })
  resource: string | null;

  /** The event's version in the resource's event log (`X-Webhook-Resource-Version`). */
  @Column({ name: 'resource_version', type: 'integer', nullable: true })
  resourceVersion: number | null;

  @Column({ name: 'attempt_count', type: 'integer', default: 0 })
  attemptCount: number;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  /** Why the delivery failed, was blocked or cancelled. */
  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  /** The next attempt waits in PostgreSQL until `nextAttemptAt` (long delays), not in JetStream. */
  @Column({ type: 'boolean', default: false })
  parked: boolean;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
