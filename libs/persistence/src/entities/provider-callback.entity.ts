import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const CALLBACK_STATES = ['pending', 'processed', 'failed'] as const;
export type CallbackState = (typeof CALLBACK_STATES)[number];

/**
 * A verified provider callback exactly as it arrived, kept for audit and
 * reprocessing. It is acknowledged to the provider once this row is committed;
 * turning it into events happens after, and is retried until it succeeds.
 */
@Entity({ name: 'provider_callbacks' })
@Index(['connectionId', 'digest'])
export class ProviderCallbackEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'connection_id', type: 'uuid' })
  connectionId: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ type: 'text' })
  provider: string;

  /** SHA-256 of method, URL and body: the same callback delivered twice is stored once. */
  @Column({ type: 'text' })
  digest: string;

  @Column({ type: 'text' })
  method: string;

  @Column({ type: 'text' })
  url: string;

  /** Request headers without credentials (Authorization, cookies, configured secret headers). */
  @Column({ type: 'jsonb' })
  headers: Record<string, string>;

  @Column({ type: 'bytea' })
  body: Buffer;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;

  @Column({ type: 'text' })
  state: CallbackState;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** When a pending callback may be (re)claimed: a lease while one process works on it. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'event_ids', type: 'text', array: true, default: () => "'{}'" })
  eventIds: string[];

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt: Date | null;
}
