import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const PAYLOAD_FORMATS = ['full', 'thin'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

export const SIGNATURE_SCHEMES = ['sha256', 'enchant', 'standard-webhooks'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

export const SUBSCRIPTION_STATES = ['pending_verification', 'active', 'disabled'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/**
 * `default`: a delivery of a resource waits while the previous one of the same
 * resource to the subscription has its first attempt in flight. `strict`: it
 * also waits while that one is retrying, until it is delivered or dead.
 */
export const DELIVERY_ORDERINGS = ['default', 'strict'] as const;
export type DeliveryOrdering = (typeof DELIVERY_ORDERINGS)[number];

export const DEFAULT_RETRY_POLICY_MS = [1_000, 5_000, 30_000, 300_000, 1_800_000, 7_200_000];

@Entity({ name: 'subscriptions' })
@Index(['tenantId', 'state'])
export class SubscriptionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ type: 'text' })
  url: string;

  /** Exact types or wildcards such as `ticket.*` and `*`. */
  @Column({ name: 'event_types', type: 'text', array: true })
  eventTypes: string[];

  /** Per event type, the schema versions delivered (a type not listed: every version). */
  @Column({ name: 'schema_versions', type: 'jsonb', nullable: true })
  schemaVersions: Record<string, number[]> | null;

  /** When set, only events about these model ids are delivered. */
  @Column({ name: 'model_ids', type: 'text', array: true, nullable: true })
  modelIds: string[] | null;

  /**
   * A condition on the event envelope in MongoDB query syntax (contracts' `subscription-filter`): events it
   * does not match get no delivery. Null: no condition.
   */
  @Column({ type: 'jsonb', nullable: true })
  filter: Record<string, unknown> | null;

  /**
   * Events skipped by `filter` so far. Only the dispatchers' bulk increment writes it (`addFilteredCounts`):
   * TypeORM never inserts or updates it, so saving a subscription read a moment ago cannot put back an older count.
   */
  @Column({
    name: 'filtered_count',
    type: 'bigint',
    insert: false,
    update: false,
    default: 0,
    // pg returns bigint as a string; a count stays far below 2^53.
    transformer: { from: (v: string | number | null) => Number(v ?? 0), to: (v: number | undefined) => v },
  })
  filteredCount: number;

  /**
   * Most deliveries a second to its endpoint, summed over every dispatcher pod (null: no limit); `rateBurst`
   * is the most in any one second (at least `ratePerSecond`). Deliveries over the limit wait in its rate line.
   */
  @Column({ name: 'rate_per_second', type: 'integer', nullable: true })
  ratePerSecond: number | null;

  @Column({ name: 'rate_burst', type: 'integer', nullable: true })
  rateBurst: number | null;

  @Column({ type: 'text', default: 'full' })
  format: PayloadFormat;

  @Column({ name: 'signature_scheme', type: 'text', default: 'sha256' })
  signatureScheme: SignatureScheme;

  /** The signing secret, encrypted with the hub's key; never returned after creation. */
  @Column({ name: 'secret_ciphertext', type: 'text', nullable: true })
  secretCiphertext: string | null;

  /** The secret before the last rotation; still signs until `previousSecretExpiresAt`. */
  @Column({ name: 'previous_secret_ciphertext', type: 'text', nullable: true })
  previousSecretCiphertext: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  headers: Record<string, string>;

  /** Delay before each retry; its length is the number of retries. */
  @Column({ name: 'retry_policy_ms', type: 'integer', array: true })
  retryPolicyMs: number[];

  @Column({ type: 'text', default: 'default' })
  ordering: DeliveryOrdering;

  @Column({ name: 'verify_token', type: 'text', nullable: true })
  verifyToken: string | null;

  @Column({ type: 'text' })
  state: SubscriptionState;

  @Column({ name: 'state_reason', type: 'text', nullable: true })
  stateReason: string | null;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  /** The key whose rights are checked again each time a message is prepared. */
  @Column({ name: 'created_by_key_id', type: 'uuid', nullable: true })
  createdByKeyId: string | null;

  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures: number;

  /** When the current run of consecutive failures began; null while the endpoint answers. */
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  /** How long the endpoint must have been failing before it is disabled; null: the hub's default. */
  @Column({ name: 'disable_after_failing_ms', type: 'integer', nullable: true })
  disableAfterFailingMs: number | null;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
