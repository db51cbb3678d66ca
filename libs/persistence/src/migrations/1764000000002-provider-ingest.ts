import { MigrationInterface, QueryRunner } from 'typeorm';

/** Provider connections, the raw callbacks they received, and lookups from provider ids to messages. */
export class ProviderIngest1764000000002 implements MigrationInterface {
  name = 'ProviderIngest1764000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE provider_connections (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        provider text NOT NULL,
        name text NULL,
        public_url text NULL,
        settings jsonb NOT NULL DEFAULT '{}',
        secrets_ciphertext text NULL,
        status_map jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX provider_connections_tenant_idx ON provider_connections (tenant_id, created_at)`);
    await q.query(`
      CREATE TABLE provider_callbacks (
        id uuid PRIMARY KEY,
        connection_id uuid NOT NULL REFERENCES provider_connections(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        provider text NOT NULL,
        digest text NOT NULL,
        method text NOT NULL,
        url text NOT NULL,
        headers jsonb NOT NULL,
        body bytea NOT NULL,
        received_at timestamptz NOT NULL,
        state text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NULL,
        last_error text NULL,
        event_ids text[] NOT NULL DEFAULT '{}',
        processed_at timestamptz NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX provider_callbacks_digest_idx ON provider_callbacks (connection_id, digest)`);
    await q.query(`CREATE INDEX provider_callbacks_list_idx ON provider_callbacks (connection_id, received_at DESC)`);
    await q.query(`CREATE INDEX provider_callbacks_due_idx ON provider_callbacks (next_attempt_at) WHERE state = 'pending'`);
    // Inbound replies find their ticket by Message-ID; status reports find their message by the provider's id.
    await q.query(`CREATE INDEX snapshots_email_message_id_idx ON snapshots (tenant_id, (model->>'email_message_id')) WHERE model_type = 'message'`);
    await q.query(`CREATE INDEX snapshots_provider_message_id_idx ON snapshots (tenant_id, (model->>'provider_message_id')) WHERE model_type = 'message'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX snapshots_provider_message_id_idx`);
    await q.query(`DROP INDEX snapshots_email_message_id_idx`);
    await q.query(`DROP TABLE provider_callbacks`);
    await q.query(`DROP TABLE provider_connections`);
  }
}
