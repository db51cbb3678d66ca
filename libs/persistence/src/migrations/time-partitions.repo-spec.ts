import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { adminQuery, adminUrl } from '../../test/repository-database';
import { dataSourceOptions, runMigrations } from '../database';
import { DeliveryAttemptEntity } from '../entities/delivery-attempt.entity';
import { DeliveryEntity } from '../entities/delivery.entity';
import { ProviderCallbackEntity } from '../entities/provider-callback.entity';
import { DeliveryLogRepository } from '../repositories/delivery-log.repository';
import { ProviderCallbackRepository } from '../repositories/provider-callback.repository';
import { MIGRATIONS } from './index';

/** Every row of the four tables, as JSON objects in a stable order (columns added by this or later migrations left out). */
async function allRows(ds: DataSource): Promise<Record<string, unknown[]>> {
  const of = async (sql: string): Promise<unknown[]> => ((await ds.query(sql)) as Array<{ rows: unknown[] | null }>)[0].rows ?? [];
  return {
    events: await of(`SELECT jsonb_agg(to_jsonb(t) - 'schema_version' ORDER BY tenant_id, id) AS rows FROM events t`),
    deliveries: await of(`SELECT jsonb_agg(to_jsonb(t) - 'rate_seq' - 'rate_waiting' - 'trace_parent' ORDER BY id) AS rows FROM deliveries t`),
    delivery_attempts: await of(`SELECT jsonb_agg(to_jsonb(t) - 'delivery_created_at' ORDER BY id) AS rows FROM delivery_attempts t`),
    provider_callbacks: await of(`SELECT jsonb_agg(to_jsonb(t) ORDER BY id) AS rows FROM provider_callbacks t`),
  };
}

/**
 * The partitioning migration on a filled database of the schema before it:
 * every row is in the partitioned tables afterwards, and the delivery log,
 * the event log's replay query and the callback list answer exactly as before.
 */
describe('migration TimePartitions1764000000007', () => {
  const name = `hookhub_migrate_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  let url: string;

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE ${name}`);
    const u = new URL(adminUrl());
    u.pathname = `/${name}`;
    url = u.toString();
  });
  afterAll(() => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`), 30_000);

  it('keeps every row and every delivery-log answer', async () => {
    const before = new DataSource({ ...dataSourceOptions(url, 4), migrations: MIGRATIONS.slice(0, 7) });
    await before.initialize();
    await runMigrations(before);
    // 60 days of history for two tenants: events, deliveries in every state, 1–3 attempts each, callbacks.
    await before.query(`
      INSERT INTO tenants (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'a'), ('00000000-0000-4000-8000-000000000002', 'b');
      INSERT INTO subscriptions (id, tenant_id, url, event_types, retry_policy_ms, state)
        SELECT ('00000000-0000-4000-9000-00000000000' || s)::uuid, ('00000000-0000-4000-8000-00000000000' || (1 + s % 2))::uuid,
               'https://receiver.example/' || s, '{*}', '{1000}', 'active' FROM generate_series(1, 4) s;
      INSERT INTO events (tenant_id, id, type, model_type, model_id, version, change_status, envelope, created_at, recorded_at)
        SELECT ('00000000-0000-4000-8000-00000000000' || (1 + i % 2))::uuid, 'evt-' || i, 'ticket.updated', 'ticket', 't-' || (i % 50), i,
               'UPDATE', json_build_object('id', 'evt-' || i, 'model', json_build_object('subject', 'line ' || i || E'\\n"quoted" é')),
               now() - (i * interval '43 minutes'), now() - (i * interval '43 minutes')
          FROM generate_series(1, 2000) i;
      INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status, attempt_count, last_status_code, reason,
                              next_attempt_at, parked, resource, resource_version, delivered_at, created_at, updated_at)
        SELECT gen_random_uuid(), e.tenant_id, s.id, e.id, e.type,
               (ARRAY['pending','retrying','delivered','failed','blocked','cancelled'])[1 + (e.version + s.n) % 6], 1 + e.version % 3,
               CASE WHEN e.version % 3 = 0 THEN 500 ELSE 200 END, CASE WHEN e.version % 5 = 0 THEN 'why ' || e.version END,
               CASE WHEN e.version % 7 = 0 THEN now() + interval '1 hour' END, e.version % 7 = 0, 'ticket/' || e.model_id, e.version,
               CASE WHEN e.version % 2 = 0 THEN e.recorded_at + interval '2 seconds' END, e.recorded_at, e.recorded_at + interval '3 seconds'
          FROM events e JOIN (SELECT id, tenant_id, row_number() OVER () AS n FROM subscriptions) s ON s.tenant_id = e.tenant_id;
      INSERT INTO delivery_attempts (id, delivery_id, attempt, outcome, started_at, duration_ms, request_url, request_headers,
                                     response_status, response_headers, response_body, error)
        SELECT gen_random_uuid(), d.id, a, CASE WHEN a = d.attempt_count THEN 'success' ELSE 'failure' END, d.created_at + a * interval '1 second',
               10 * a, 'https://receiver.example/x', '{"content-type":"application/json"}', 200, '{"server":"x"}', 'ok ' || a, NULL
          FROM deliveries d, generate_series(1, d.attempt_count) a;
      INSERT INTO provider_connections (id, tenant_id, provider) VALUES ('00000000-0000-4000-a000-000000000001', '00000000-0000-4000-8000-000000000001', 'sendgrid');
      INSERT INTO provider_callbacks (id, connection_id, tenant_id, provider, digest, method, url, headers, body, received_at, state, attempts, event_ids)
        SELECT gen_random_uuid(), '00000000-0000-4000-a000-000000000001', '00000000-0000-4000-8000-000000000001', 'sendgrid', 'digest-' || i,
               'POST', '/ingest/x', '{"a":"b"}', convert_to('{"n":' || i || '}', 'UTF8'), now() - i * interval '3 hours',
               CASE WHEN i % 4 = 0 THEN 'pending' ELSE 'processed' END, 1, ARRAY['evt-' || i]
          FROM generate_series(1, 200) i;`);

    const answers = async (ds: DataSource): Promise<unknown> => {
      const log = new DeliveryLogRepository(ds.getRepository(DeliveryEntity), ds.getRepository(DeliveryAttemptEntity));
      const callbacks = new ProviderCallbackRepository(ds.getRepository(ProviderCallbackEntity));
      const tenant = '00000000-0000-4000-8000-000000000002';
      const sub = '00000000-0000-4000-9000-000000000001';
      const pages: unknown[] = [];
      for (const filter of [{}, { status: 'failed' as const }, { eventType: 'ticket.updated', since: new Date(Date.now() - 10 * 86_400_000) }]) {
        let cursor: string | undefined;
        for (let i = 0; i < 3; i++) {
          const page = await log.pageForSubscription(tenant, sub, { ...filter, limit: 25, cursor });
          pages.push(page.items.map((d) => d.id));
          cursor = page.nextCursor ?? undefined;
        }
      }
      let callbackCursor: string | undefined;
      const callbackPages: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const page = await callbacks.pageForConnection('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-a000-000000000001', 30, callbackCursor);
        callbackPages.push(page.items.map((c) => c.id));
        callbackCursor = page.nextCursor ?? undefined;
      }
      const someDelivery = (pages[0] as string[])[3];
      return {
        pages,
        callbackPages,
        one: await log.findForTenant(tenant, someDelivery),
        since: await log.idsSince(tenant, sub, new Date(Date.now() - 20 * 86_400_000), ['failed', 'cancelled']),
        // The replay query's selection and order (envelopesSince reads a column a later migration adds).
        replay: await ds.query(`SELECT id, type, model_id FROM events WHERE tenant_id = $1 AND recorded_at >= $2 ORDER BY recorded_at, id LIMIT 500`, [
          tenant,
          new Date(Date.now() - 30 * 86_400_000),
        ]),
      };
    };
    const rowsBefore = await allRows(before);
    const answersBefore = await answers(before);
    await before.destroy();

    const after = new DataSource(dataSourceOptions(url, 4));
    await after.initialize();
    await runMigrations(after);
    try {
      const [{ partitioned }] = (await after.query(
        `SELECT count(*)::int AS partitioned FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
          WHERE c.relname IN ('events', 'deliveries', 'delivery_attempts', 'provider_callbacks')`,
      )) as Array<{ partitioned: number }>;
      expect(partitioned).toBe(4);
      expect(rowsBefore.deliveries).toHaveLength(4000);
      expect(await allRows(after)).toEqual(rowsBefore);
      expect(await answers(after)).toEqual(answersBefore);
      // An attempt sits in its delivery's partition.
      const [{ misplaced }] = (await after.query(
        `SELECT count(*)::int AS misplaced FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.delivery_created_at <> d.created_at`,
      )) as Array<{ misplaced: number }>;
      expect(misplaced).toBe(0);
      // Every row is in the partition of its day.
      const [{ wrong }] = (await after.query(
        `SELECT count(*)::int AS wrong FROM deliveries d
          WHERE d.tableoid::regclass::text <> 'deliveries_p' || to_char(d.created_at AT TIME ZONE 'UTC', 'YYYYMMDD')`,
      )) as Array<{ wrong: number }>;
      expect(wrong).toBe(0);
    } finally {
      await after.destroy();
    }
  }, 120_000);
});
