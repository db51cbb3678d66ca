import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A tenant's account at one provider: where the provider calls us and how its callbacks are checked. */
@Entity({ name: 'provider_connections' })
@Index(['tenantId', 'createdAt'])
export class ProviderConnectionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ type: 'text' })
  provider: string;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  /** The URL configured at the provider; URL-signing providers sign it, so it must match what they call. */
  @Column({ name: 'public_url', type: 'text', nullable: true })
  publicUrl: string | null;

  /** Credential fields that are not secret (public keys, header names, algorithms). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  settings: Record<string, string>;

  /** The secret credential fields as encrypted JSON; never returned by the API. */
  @Column({ name: 'secrets_ciphertext', type: 'text', nullable: true })
  secretsCiphertext: string | null;

  /** Provider status → normalised status, overriding the built-in mapping. */
  @Column({ name: 'status_map', type: 'jsonb', default: () => "'{}'" })
  statusMap: Record<string, string>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
