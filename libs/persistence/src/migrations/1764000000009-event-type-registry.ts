import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Event types defined through the API, platform-wide (no tenant) or for one
 * tenant, each with immutable schema versions; the schema version of every
 * logged event; and the versions a subscription accepts per type. Every
 * change to a type or a version takes the next `revision`, so a process sees
 * that its copy of the registry is stale with one indexed read.
 */
export class EventTypeRegistry1764000000009 implements MigrationInterface {
  name = 'EventTypeRegistry1764000000009';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE event_type_revision`);
    await q.query(`
      CREATE TABLE event_types (
        id uuid PRIMARY KEY,
        tenant_id uuid NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text NOT NULL,
        model_type text NOT NULL,
        resource_path text NOT NULL,
        topic text NOT NULL,
        deprecated boolean NOT NULL DEFAULT false,
        revision bigint NOT NULL DEFAULT nextval('event_type_revision'),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One name per tenant and one platform-wide; a tenant's name may not shadow a platform type (checked by the
    // registry under an advisory lock, as a unique index cannot span the two).
    await q.query(`CREATE UNIQUE INDEX event_types_tenant_name ON event_types (tenant_id, name) WHERE tenant_id IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX event_types_platform_name ON event_types (name) WHERE tenant_id IS NULL`);
    await q.query(`CREATE INDEX event_types_revision ON event_types (revision)`);
    await q.query(`
      CREATE TABLE event_type_versions (
        event_type_id uuid NOT NULL REFERENCES event_types(id) ON DELETE CASCADE,
        version integer NOT NULL CHECK (version > 0),
        data_schema jsonb NOT NULL,
        model_schema jsonb NOT NULL,
        example jsonb NOT NULL,
        deprecated boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (event_type_id, version)
      )`);
    // A constant default: PostgreSQL adds the column without rewriting the partitions.
    await q.query(`ALTER TABLE events ADD COLUMN schema_version integer NOT NULL DEFAULT 1`);
    await q.query(`ALTER TABLE subscriptions ADD COLUMN schema_versions jsonb NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions DROP COLUMN schema_versions`);
    await q.query(`ALTER TABLE events DROP COLUMN schema_version`);
    await q.query(`DROP TABLE event_type_versions`);
    await q.query(`DROP TABLE event_types`);
    await q.query(`DROP SEQUENCE event_type_revision`);
  }
}
