import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DeliveryStatus } from '../src/entities/delivery.entity';
import { dataSourceOptions, runMigrations } from '../src/database';
import { createPartitionSql, dayOf, PartitionedTable } from '../src/partitions/partition-calendar';

/**
 * The repository tests' database: a fresh PostgreSQL database per test file,
 * migrated by the code the apps run at start-up, and dropped at the end. The
 * repositories are built on it directly, without Nest or the apps.
 */
export interface RepositoryDatabase {
  dataSource: DataSource;
  seed: Seeder;
  drop(): Promise<void>;
}

/** The PostgreSQL URL the repository tests create and drop their databases through. */
export const adminUrl = (): string => process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function createRepositoryDatabase(): Promise<RepositoryDatabase> {
  const name = `hookhub_repo_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const dataSource = new DataSource(dataSourceOptions(url.toString(), 8));
  await dataSource.initialize();
  await runMigrations(dataSource);
  return {
    dataSource,
    seed: new Seeder(dataSource),
    drop: async () => {
      await dataSource.destroy();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** One statement on the admin connection (CREATE / DROP DATABASE). */
export async function adminQuery(sql: string): Promise<void> {
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

export interface DeliverySeed {
  tenantId: string;
  subscriptionId: string;
  eventId?: string;
  status?: DeliveryStatus;
  attemptCount?: number;
  parked?: boolean;
  /** Relative to the database's now(); `null` leaves it unset. */
  dueInMs?: number | null;
  createdAt?: Date;
  resource?: string | null;
  resourceVersion?: number | null;
  updatedAgoMs?: number;
}

/** Rows the repositories read, written in SQL with only the columns a test cares about. */
export class Seeder {
  constructor(private readonly dataSource: DataSource) {}

  async tenant(): Promise<string> {
    const [row] = await this.dataSource.query(`INSERT INTO tenants (name) VALUES ('t') RETURNING id`);
    return row.id;
  }

  async subscription(
    tenantId: string,
    s: { state?: string; eventTypes?: string[]; ordering?: 'default' | 'strict'; createdAt?: Date; consecutiveFailures?: number } = {},
  ): Promise<string> {
    const [row] = await this.dataSource.query(
      `INSERT INTO subscriptions (tenant_id, url, event_types, retry_policy_ms, state, ordering, created_at, consecutive_failures)
       VALUES ($1, 'https://receiver.example/hook', $2, '{1000}', $3, $4, COALESCE($5, now()), $6) RETURNING id`,
      [tenantId, s.eventTypes ?? ['*'], s.state ?? 'active', s.ordering ?? 'default', s.createdAt ?? null, s.consecutiveFailures ?? 0],
    );
    return row.id;
  }

  async event(
    tenantId: string,
    e: { id?: string; type?: string; modelType?: string; modelId?: string; version?: number; envelope?: object } = {},
  ): Promise<string> {
    const id = e.id ?? `evt-${randomUUID()}`;
    await this.dataSource.query(
      `INSERT INTO events (tenant_id, id, type, model_type, model_id, version, change_status, envelope, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'CREATION', $7, now())`,
      [tenantId, id, e.type ?? 'ticket.created', e.modelType ?? 'ticket', e.modelId ?? randomUUID(), e.version ?? 1, JSON.stringify(e.envelope ?? { id })],
    );
    return id;
  }

  async delivery(d: DeliverySeed): Promise<string> {
    const id = randomUUID();
    if (d.createdAt) await this.partitions(['deliveries', 'delivery_attempts'], d.createdAt);
    await this.dataSource.query(
      `INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status, attempt_count, parked, next_attempt_at, created_at,
                               resource, resource_version, updated_at)
       VALUES ($1, $2, $3, $4, 'ticket.created', $5, $6, $7, CASE WHEN $8::int IS NULL THEN NULL ELSE now() + $8 * interval '1 millisecond' END,
               COALESCE($9, now()), $10, $11, now() - $12 * interval '1 millisecond')`,
      [
        id,
        d.tenantId,
        d.subscriptionId,
        d.eventId ?? `evt-${id}`,
        d.status ?? 'pending',
        d.attemptCount ?? 0,
        d.parked ?? false,
        d.dueInMs ?? null,
        d.createdAt ?? null,
        d.resource ?? null,
        d.resourceVersion ?? null,
        d.updatedAgoMs ?? 0,
      ],
    );
    return id;
  }

  /** The day partitions of these tables for a moment in the past (the apps create today's and later ones). */
  async partitions(tables: PartitionedTable[], at: Date): Promise<void> {
    for (const table of tables) await this.dataSource.query(createPartitionSql(table, dayOf(at)));
  }

  /** An attempt of a delivery, in the delivery's partition. */
  async attempt(deliveryId: string, a: { attempt?: number; outcome?: 'success' | 'failure' } = {}): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO delivery_attempts (id, delivery_id, delivery_created_at, attempt, outcome, started_at, duration_ms, request_url, request_headers)
       SELECT gen_random_uuid(), d.id, d.created_at, $2, $3, now(), 5, 'https://receiver.example/hook', '{}' FROM deliveries d WHERE d.id = $1`,
      [deliveryId, a.attempt ?? 1, a.outcome ?? 'failure'],
    );
  }

  /** The columns of deliveries the schedule and outcomes change, by id. */
  async deliveries(ids: string[]): Promise<Map<string, { status: string; parked: boolean; due: boolean | null; reason: string | null; attemptCount: number }>> {
    const rows: Array<{ id: string; status: string; parked: boolean; due: boolean | null; reason: string | null; attempt_count: number }> =
      await this.dataSource.query(`SELECT id, status, parked, next_attempt_at <= now() AS due, reason, attempt_count FROM deliveries WHERE id = ANY($1)`, [
        ids,
      ]);
    return new Map(rows.map((r) => [r.id, { status: r.status, parked: r.parked, due: r.due, reason: r.reason, attemptCount: r.attempt_count }]));
  }
}
