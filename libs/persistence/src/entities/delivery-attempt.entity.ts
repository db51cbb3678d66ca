import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One HTTP attempt of a delivery, with what was sent (minus secrets) and what came back. Partitioned by day (see partition-calendar). */
@Entity({ name: 'delivery_attempts' })
@Index(['deliveryId', 'attempt'])
export class DeliveryAttemptEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'delivery_id', type: 'uuid' })
  deliveryId: string;

  /** The delivery's `created_at`: the partition key, so a delivery and its attempts expire together. */
  @Column({ name: 'delivery_created_at', type: 'timestamptz' })
  deliveryCreatedAt: Date;

  @Column({ type: 'integer' })
  attempt: number;

  @Column({ type: 'text' })
  outcome: 'success' | 'failure';

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ name: 'request_url', type: 'text' })
  requestUrl: string;

  @Column({ name: 'request_headers', type: 'jsonb' })
  requestHeaders: Record<string, string>;

  @Column({ name: 'response_status', type: 'integer', nullable: true })
  responseStatus: number | null;

  @Column({ name: 'response_headers', type: 'jsonb', nullable: true })
  responseHeaders: Record<string, string> | null;

  /** The first 4,096 bytes of the response body. */
  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}
