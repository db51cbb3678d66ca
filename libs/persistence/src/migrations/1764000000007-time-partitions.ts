import { MigrationInterface, QueryRunner } from 'typeorm';
import { addDays, createPartitionSql, dayOf, daysBetween, PARTITIONED_TABLES, PartitionedTable } from '../partitions/partition-calendar';

/** Partitions the migration creates past today, so inserts never wait for the first maintenance run. */
const DAYS_AHEAD = 3;

/** Each table as it becomes: columns, then what is added once the rows are in (indexes build faster after a bulk load). */
const TABLES: Array<{ table: PartitionedTable; columns: string; copy: string; after: string[] }> = [
  {
    table: 'events',
    columns: `tenant_id uuid NOT NULL, id text NOT NULL, type text NOT NULL, model_type text NOT NULL, model_id text NOT NULL,
      version integer NOT NULL, change_status text NOT NULL, envelope json NOT NULL, created_at timestamptz NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now()`,
    copy: `INSERT INTO events (tenant_id, id, type, model_type, model_id, version, change_status, envelope, created_at, recorded_at)
      SELECT tenant_id, id, type, model_type, model_id, version, change_status, envelope, created_at, recorded_at FROM events_unpartitioned`,
    after: [
      // Unique per partition only: an event id is checked against every partition when it is recorded (EventLogRepository).
      `ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (tenant_id, id, recorded_at)`,
      `CREATE UNIQUE INDEX events_resource_version_idx ON events (tenant_id, model_type, model_id, version, recorded_at)`,
      `CREATE INDEX events_tenant_recorded_idx ON events (tenant_id, recorded_at)`,
    ],
  },
  {
    table: 'deliveries',
    columns: `id uuid NOT NULL, tenant_id uuid NOT NULL, subscription_id uuid NOT NULL, event_id text NOT NULL, event_type text NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'retrying', 'delivered', 'failed', 'blocked', 'cancelled')),
      attempt_count integer NOT NULL DEFAULT 0, last_status_code integer NULL, reason text NULL, next_attempt_at timestamptz NULL,
      parked boolean NOT NULL DEFAULT false, resource text NULL, resource_version integer NULL, delivered_at timestamptz NULL,
      created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now()`,
    copy: `INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status, attempt_count, last_status_code, reason,
        next_attempt_at, parked, resource, resource_version, delivered_at, created_at, updated_at)
      SELECT id, tenant_id, subscription_id, event_id, event_type, status, attempt_count, last_status_code, reason,
        next_attempt_at, parked, resource, resource_version, delivered_at, created_at, updated_at FROM deliveries_unpartitioned`,
    after: [
      `ALTER TABLE deliveries ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id, created_at)`,
      // One delivery per (subscription, event) is kept by the fan-out under the resource's lock (FanOutRepository).
      `CREATE INDEX deliveries_subscription_event_idx ON deliveries (subscription_id, event_id)`,
      `CREATE INDEX deliveries_subscription_created_idx ON deliveries (subscription_id, created_at)`,
      `CREATE INDEX deliveries_parked_due_idx ON deliveries (next_attempt_at) WHERE parked`,
      `CREATE INDEX deliveries_resource_order_idx ON deliveries (subscription_id, resource, resource_version)`,
      `ALTER TABLE deliveries ADD CONSTRAINT deliveries_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES subscriptions(id) ON DELETE CASCADE`,
    ],
  },
  {
    table: 'delivery_attempts',
    columns: `id uuid NOT NULL, delivery_id uuid NOT NULL, delivery_created_at timestamptz NOT NULL, attempt integer NOT NULL,
      outcome text NOT NULL CHECK (outcome IN ('success', 'failure')), started_at timestamptz NOT NULL, duration_ms integer NOT NULL,
      request_url text NOT NULL, request_headers jsonb NOT NULL, response_status integer NULL, response_headers jsonb NULL,
      response_body text NULL, error text NULL`,
    copy: `INSERT INTO delivery_attempts (id, delivery_id, delivery_created_at, attempt, outcome, started_at, duration_ms, request_url,
        request_headers, response_status, response_headers, response_body, error)
      SELECT a.id, a.delivery_id, d.created_at, a.attempt, a.outcome, a.started_at, a.duration_ms, a.request_url,
        a.request_headers, a.response_status, a.response_headers, a.response_body, a.error
        FROM delivery_attempts_unpartitioned a JOIN deliveries_unpartitioned d ON d.id = a.delivery_id`,
    // No foreign key to deliveries (a partition referenced by one cannot simply be dropped): an
    // attempt lives in its delivery's partition and expires with it.
    after: [`CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, attempt)`],
  },
  {
    table: 'provider_callbacks',
    columns: `id uuid NOT NULL, connection_id uuid NOT NULL, tenant_id uuid NOT NULL, provider text NOT NULL, digest text NOT NULL,
      method text NOT NULL, url text NOT NULL, headers jsonb NOT NULL, body bytea NOT NULL, received_at timestamptz NOT NULL,
      state text NOT NULL, attempts integer NOT NULL DEFAULT 0, next_attempt_at timestamptz NULL, last_error text NULL,
      event_ids text[] NOT NULL DEFAULT '{}', processed_at timestamptz NULL`,
    copy: `INSERT INTO provider_callbacks (id, connection_id, tenant_id, provider, digest, method, url, headers, body, received_at, state,
        attempts, next_attempt_at, last_error, event_ids, processed_at)
      SELECT id, connection_id, tenant_id, provider, digest, method, url, headers, body, received_at, state,
        attempts, next_attempt_at, last_error, event_ids, processed_at FROM provider_callbacks_unpartitioned`,
    after: [
      `ALTER TABLE provider_callbacks ADD CONSTRAINT provider_callbacks_pkey PRIMARY KEY (id, received_at)`,
      // A callback stored twice is caught under an advisory lock on its digest (ProviderCallbackRepository).
      `CREATE INDEX provider_callbacks_digest_idx ON provider_callbacks (connection_id, digest)`,
      `CREATE INDEX provider_callbacks_list_idx ON provider_callbacks (connection_id, received_at DESC)`,
      `CREATE INDEX provider_callbacks_due_idx ON provider_callbacks (next_attempt_at) WHERE state = 'pending'`,
      `ALTER TABLE provider_callbacks ADD CONSTRAINT provider_callbacks_connection_id_fkey
         FOREIGN KEY (connection_id) REFERENCES provider_connections(id) ON DELETE CASCADE`,
    ],
  },
];

/**
 * The four tables that grow with traffic become range-partitioned by day, so
 * expiry drops whole partitions instead of deleting rows (see StorageModule).
 * Every row is copied into the partition of its day; the old tables are
 * dropped only after all four are copied, in this one transaction.
 */
export class TimePartitions1764000000007 implements MigrationInterface {
  name = 'TimePartitions1764000000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE delivery_attempts DROP CONSTRAINT IF EXISTS delivery_attempts_delivery_id_fkey`);
    for (const { table } of TABLES) await q.query(`ALTER TABLE ${table} RENAME TO ${table}_unpartitioned`);
    for (const { table, columns, copy } of TABLES) {
      const key = table === 'delivery_attempts' ? 'd.created_at' : PARTITIONED_TABLES[table];
      const source =
        table === 'delivery_attempts' ? 'delivery_attempts_unpartitioned a JOIN deliveries_unpartitioned d ON d.id = a.delivery_id' : `${table}_unpartitioned`;
      const [range] = (await q.query(`SELECT min(${key}) AS first, max(${key}) AS last FROM ${source}`)) as Array<{ first: Date | null; last: Date | null }>;
      const today = dayOf(Date.now());
      const first = range.first && range.first < today ? range.first : today;
      const last = addDays(range.last && range.last > today ? dayOf(range.last) : today, DAYS_AHEAD);
      await q.query(`CREATE TABLE ${table} (${columns}) PARTITION BY RANGE (${PARTITIONED_TABLES[table]})`);
      for (const day of daysBetween(first, last)) await q.query(createPartitionSql(table, day));
      await q.query(copy);
    }
    for (const { table } of [...TABLES].reverse()) await q.query(`DROP TABLE ${table}_unpartitioned`);
    for (const { after } of TABLES) for (const statement of after) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to plain tables, keeping every row (a duplicate across partitions would fail the old unique keys, loudly).
    for (const { table } of TABLES) {
      await q.query(`CREATE TABLE ${table}_plain (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
      await q.query(`INSERT INTO ${table}_plain SELECT * FROM ${table}`);
      await q.query(`DROP TABLE ${table}`);
      await q.query(`ALTER TABLE ${table}_plain RENAME TO ${table}`);
    }
    await q.query(`ALTER TABLE events ADD PRIMARY KEY (tenant_id, id)`);
    await q.query(`CREATE UNIQUE INDEX events_resource_version_idx ON events (tenant_id, model_type, model_id, version)`);
    await q.query(`CREATE INDEX events_tenant_recorded_idx ON events (tenant_id, recorded_at)`);
    await q.query(`ALTER TABLE deliveries ADD PRIMARY KEY (id), ALTER COLUMN subscription_id SET NOT NULL`);
    await q.query(`ALTER TABLE deliveries ADD FOREIGN KEY (subscription_id) REFERENCES subscriptions(id) ON DELETE CASCADE, SET (fillfactor = 70)`);
    await q.query(`CREATE UNIQUE INDEX deliveries_subscription_event_idx ON deliveries (subscription_id, event_id)`);
    await q.query(`CREATE INDEX deliveries_subscription_created_idx ON deliveries (subscription_id, created_at)`);
    await q.query(`CREATE INDEX deliveries_parked_due_idx ON deliveries (next_attempt_at) WHERE parked`);
    await q.query(`CREATE INDEX deliveries_resource_order_idx ON deliveries (subscription_id, resource, resource_version)`);
    await q.query(`ALTER TABLE delivery_attempts DROP COLUMN delivery_created_at, ADD PRIMARY KEY (id)`);
    await q.query(`ALTER TABLE delivery_attempts ADD FOREIGN KEY (delivery_id) REFERENCES deliveries(id) ON DELETE CASCADE`);
    await q.query(`CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, attempt)`);
    await q.query(`ALTER TABLE provider_callbacks ADD PRIMARY KEY (id)`);
    await q.query(`ALTER TABLE provider_callbacks ADD FOREIGN KEY (connection_id) REFERENCES provider_connections(id) ON DELETE CASCADE`);
    await q.query(`CREATE UNIQUE INDEX provider_callbacks_digest_idx ON provider_callbacks (connection_id, digest)`);
    await q.query(`CREATE INDEX provider_callbacks_list_idx ON provider_callbacks (connection_id, received_at DESC)`);
    await q.query(`CREATE INDEX provider_callbacks_due_idx ON provider_callbacks (next_attempt_at) WHERE state = 'pending'`);
  }
}
