import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPartitionSql, DAY_MS, dayOf, partitionName, PartitionedTable } from '@hookhub/persistence';
import { eventually } from '../support/eventually';
import { FaultWorld } from '../support/fault-world';
import { setUpTenant, sleep } from '../support/faults';

const EXPIRED_EVENTS = 40_000;
const KEPT_EVENTS = 2_000;

describe('fault: SIGKILL of the dispatcher in the middle of a retention run', () => {
  let world: FaultWorld;
  const archiveDir = mkdtempSync(join(tmpdir(), 'hookhub-retention-kill-'));

  beforeAll(async () => {
    world = await FaultWorld.start();
  });

  afterAll(async () => {
    await world?.teardown();
    rmSync(archiveDir, { recursive: true, force: true });
  });

  it('loses nothing that had not expired, and the next run archives and drops the rest', async () => {
    const db = await world.database();
    const { tenantId, subscriptionId } = await setUpTenant(world.api, `${world.receiver.url}/never`, ['ticket.updated']);
    const expiredDay = dayOf(Date.now() - 40 * DAY_MS);
    const heldDay = dayOf(Date.now() - 39 * DAY_MS);
    const keptDay = dayOf(Date.now() - 5 * DAY_MS);
    const tables: PartitionedTable[] = ['events', 'deliveries', 'delivery_attempts'];

    /** `count` delivered events of a day (one delivery and attempt each), written in SQL into that day's partitions. */
    async function history(day: Date, count: number, prefix: string, status = 'delivered'): Promise<void> {
      for (const t of tables) await db.query(createPartitionSql(t, day));
      await db.query(
        `INSERT INTO events (tenant_id, id, type, model_type, model_id, version, change_status, envelope, created_at, recorded_at)
         SELECT $1, $2 || i, 'ticket.updated', 'ticket', $2 || i, 1, 'UPDATE', json_build_object('id', $2 || i, 'model', json_build_object('d', repeat('x', 300))),
                $3::timestamptz + i * interval '1 millisecond', $3::timestamptz + i * interval '1 millisecond'
           FROM generate_series(1, $4::int) i`,
        [tenantId, prefix, day, count],
      );
      await db.query(
        `INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status, attempt_count, resource, resource_version, created_at)
         SELECT gen_random_uuid(), tenant_id, $2, id, type, $3, 1, 'ticket/' || model_id, 1, recorded_at FROM events WHERE tenant_id = $1 AND id LIKE $4`,
        [tenantId, subscriptionId, status, `${prefix}%`],
      );
      await db.query(
        `INSERT INTO delivery_attempts (id, delivery_id, delivery_created_at, attempt, outcome, started_at, duration_ms, request_url, request_headers)
         SELECT gen_random_uuid(), id, created_at, 1, 'success', created_at, 5, 'https://x.example/', '{}' FROM deliveries
          WHERE subscription_id = $1 AND event_id LIKE $2`,
        [subscriptionId, `${prefix}%`],
      );
    }
    await history(expiredDay, EXPIRED_EVENTS, 'old-');
    await history(heldDay, 10, 'held-', 'retrying'); // expired, but still retrying: kept
    await history(keptDay, KEPT_EVENTS, 'kept-');
    const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await db.query(sql, params)).rows[0].n);
    const keptBefore = await count(`SELECT count(*) AS n FROM deliveries WHERE event_id LIKE 'kept-%' OR event_id LIKE 'held-%'`);

    // A dispatcher whose first retention run starts a second after it is up, archiving to a directory.
    const retentionConfig = { RETENTION_INTERVAL_MS: 1_000, ARCHIVE_TARGET: 'directory', ARCHIVE_DIR: archiveDir };
    const first = await world.startDispatcher(retentionConfig);
    const dayDir = join(archiveDir, ...expiredDay.toISOString().slice(0, 10).split('-'));
    // Killed once the first partition is being (or has been) archived and before the run finished.
    await eventually(async () => expect(existsSync(dayDir) && readdirSync(dayDir).length > 0).toBe(true), 60_000, 5);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const interrupted = await db.query(`SELECT finished_at FROM retention_runs ORDER BY id DESC LIMIT 1`);
    expect(interrupted.rows[0].finished_at).toBeNull();
    // Nothing that had not expired is gone.
    expect(await count(`SELECT count(*) AS n FROM deliveries WHERE event_id LIKE 'kept-%' OR event_id LIKE 'held-%'`)).toBe(keptBefore);

    await world.startDispatcher(retentionConfig);
    await eventually(
      async () => {
        const left = await count(`SELECT count(*) AS n FROM pg_class WHERE relname = ANY($1)`, [tables.map((t) => partitionName(t, expiredDay))]);
        expect(left).toBe(0);
      },
      60_000,
      100,
    );
    await sleep(200);

    // The archive holds every expired row, counted in its manifest.
    const manifest = JSON.parse(readFileSync(join(dayDir, 'manifest.json'), 'utf8')) as { files: Array<{ table: string; rows: number }> };
    expect(Object.fromEntries(manifest.files.map((f) => [f.table, f.rows]))).toEqual({
      events: EXPIRED_EVENTS,
      deliveries: EXPIRED_EVENTS,
      delivery_attempts: EXPIRED_EVENTS,
    });
    // What had not expired or is still needed is all there: rows, and the held day's partitions.
    expect(await count(`SELECT count(*) AS n FROM deliveries WHERE event_id LIKE 'kept-%' OR event_id LIKE 'held-%'`)).toBe(keptBefore);
    expect(await count(`SELECT count(*) AS n FROM events WHERE id LIKE 'held-%'`)).toBe(10);
    expect(await count(`SELECT count(*) AS n FROM delivery_attempts WHERE delivery_created_at >= $1`, [heldDay])).toBe(10 + KEPT_EVENTS);
    const runs = await db.query(`SELECT error, summary FROM retention_runs WHERE finished_at IS NOT NULL ORDER BY id`);
    expect(runs.rows.every((r: { error: string | null }) => r.error === null)).toBe(true);
    expect(runs.rows.flatMap((r: { summary: { kept?: Array<{ partition: string }> } }) => (r.summary.kept ?? []).map((k) => k.partition))).toContain(
      partitionName('deliveries', heldDay),
    );
  }, 180_000);
});
