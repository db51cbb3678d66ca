import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        account_url text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        roles text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id)`);
    await q.query(`
      CREATE TABLE subscriptions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        url text NOT NULL,
        event_types text[] NOT NULL,
        model_ids text[] NULL,
        format text NOT NULL DEFAULT 'full' CHECK (format IN ('full', 'thin')),
        signature_scheme text NOT NULL DEFAULT 'sha256' CHECK (signature_scheme IN ('sha256', 'enchant', 'standard-webhooks')),
        secret_ciphertext text NULL,
        previous_secret_ciphertext text NULL,
        previous_secret_expires_at timestamptz NULL,
        headers jsonb NOT NULL DEFAULT '{}',
        retry_policy_ms integer[] NOT NULL,
        verify_token text NULL,
        state text NOT NULL CHECK (state IN ('pending_verification', 'active', 'disabled')),
        state_reason text NULL,
        description text NULL,
        created_by_key_id uuid NULL REFERENCES api_keys(id) ON DELETE SET NULL,
        consecutive_failures integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX subscriptions_tenant_state_idx ON subscriptions (tenant_id, state)`);
    await q.query(`
      CREATE TABLE events (
        tenant_id uuid NOT NULL,
        id text NOT NULL,
        type text NOT NULL,
        model_type text NOT NULL,
        model_id text NOT NULL,
        version integer NOT NULL,
        change_status text NOT NULL,
        envelope json NOT NULL,
        created_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE UNIQUE INDEX events_resource_version_idx ON events (tenant_id, model_type, model_id, version)`);
    await q.query(`CREATE INDEX events_tenant_recorded_idx ON events (tenant_id, recorded_at)`);
    await q.query(`
      CREATE TABLE snapshots (
        tenant_id uuid NOT NULL,
        model_type text NOT NULL,
        model_id text NOT NULL,
        version integer NOT NULL DEFAULT 0,
        model json NULL,
        deleted_at timestamptz NULL,
        last_event_id text NULL,
        source_created_at timestamptz NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, model_type, model_id)
      )`);
    await q.query(`
      CREATE TABLE deliveries (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        subscription_id uuid NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
        event_id text NOT NULL,
        event_type text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'retrying', 'delivered', 'failed', 'blocked', 'cancelled')),
        attempt_count integer NOT NULL DEFAULT 0,
        last_status_code integer NULL,
        reason text NULL,
        next_attempt_at timestamptz NULL,
        delivered_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX deliveries_subscription_event_idx ON deliveries (subscription_id, event_id)`);
    await q.query(`CREATE INDEX deliveries_subscription_created_idx ON deliveries (subscription_id, created_at)`);
    await q.query(`
      CREATE TABLE delivery_attempts (
        id uuid PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
        started_at timestamptz NOT NULL,
        duration_ms integer NOT NULL,
        request_url text NOT NULL,
        request_headers jsonb NOT NULL,
        response_status integer NULL,
        response_headers jsonb NULL,
        response_body text NULL,
        error text NULL
      )`);
    await q.query(`CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, attempt)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['delivery_attempts', 'deliveries', 'snapshots', 'events', 'subscriptions', 'api_keys', 'tenants']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
