import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const API_KEY_ROLES = ['admin', 'publisher', 'reader'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** A tenant's API key. Only a SHA-256 hash of the secret part is stored. */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index()
  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'key_hash', type: 'text', unique: true })
  keyHash: string;

  @Column({ type: 'text', array: true })
  roles: ApiKeyRole[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
