import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Portal sessions (#14): short-lived, tenant-scoped credentials the platform
 * creates for a tenant's people (POST /v1/tenants/:id/portal-sessions). Each
 * acts under one of the tenant's API keys (`api_key_id`): revoking that key
 * ends the session too. Only a SHA-256 of the token is kept.
 */
export class PortalSessions1764000000012 implements MigrationInterface {
  name = 'PortalSessions1764000000012';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE portal_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        api_key_id uuid NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('admin', 'reader')),
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX portal_sessions_tenant_created_idx ON portal_sessions (tenant_id, created_at)`);
    await q.query(`CREATE INDEX portal_sessions_api_key_idx ON portal_sessions (api_key_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE portal_sessions`);
  }
}
