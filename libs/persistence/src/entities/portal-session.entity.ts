import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const PORTAL_SESSION_ROLES = ['admin', 'reader'] as const;
export type PortalSessionRole = (typeof PORTAL_SESSION_ROLES)[number];

/** A portal session: a short-lived credential of a tenant, acting under one of its API keys. Only a SHA-256 of the token is stored. */
@Entity({ name: 'portal_sessions' })
export class PortalSessionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'api_key_id', type: 'uuid' })
  apiKeyId: string;

  @Column({ type: 'text' })
  role: PortalSessionRole;

  @Column({ name: 'token_hash', type: 'text', unique: true })
  tokenHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
