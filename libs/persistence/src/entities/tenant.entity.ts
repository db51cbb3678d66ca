import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'tenants' })
export class TenantEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  /** Base URL of the tenant's account, sent as `account_url` in every event. */
  @Column({ name: 'account_url', type: 'text', default: '' })
  accountUrl: string;

  /** Days of history kept for this tenant when shorter than the deployment's (NULL: the deployment's). */
  @Column({ name: 'events_retention_days', type: 'integer', nullable: true })
  eventsRetentionDays: number | null;

  @Column({ name: 'deliveries_retention_days', type: 'integer', nullable: true })
  deliveriesRetentionDays: number | null;

  @Column({ name: 'callbacks_retention_days', type: 'integer', nullable: true })
  callbacksRetentionDays: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
