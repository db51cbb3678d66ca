import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Logger } from '@nestjs/common';
import { Pool } from 'pg';
import { addDays, dayOf, PartitionRepository, partitionName, RetentionRunRepository, TenantEntity, TenantRepository } from '@hookhub/persistence';
import { createRepositoryDatabase, RepositoryDatabase } from '../../persistence/test/repository-database';
import { DirectoryArchiveTarget, PartitionArchiver } from './archive';
import { RetentionService } from './retention.service';
import { StorageSettings } from './storage.settings';

/**
 * Retention on a real PostgreSQL, with history written in the past (the
 * controllable clock is the rows' own times): expired partitions are archived,
 * verified and dropped; what is still needed stays and is still found; a
 * tenant's shorter retention deletes its rows only; an interrupted run is
 * finished by the next.
 */
describe('RetentionService', () => {
  let db: RepositoryDatabase;
  let partitions: PartitionRepository;
  let tenants: TenantRepository;
  let archiveDir: string;
  let archivePool: Pool;
  const now = new Date();
  const ago = (days: number, hours = 12): Date => new Date(dayOf(now).getTime() - days * 86_400_000 + hours * 3_600_000);
  const settings: StorageSettings = {
    retentionDays: { events: 30, deliveries: 30, callbacks: 14 },
    aheadDays: 3,
    intervalMs: 60_000,
    deleteBatch: 3,
    deleteBatchesPerRun: 2,
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createRepositoryDatabase();
    partitions = new PartitionRepository(db.dataSource);
    tenants = new TenantRepository(db.dataSource.getRepository(TenantEntity), db.dataSource);
    archiveDir = await mkdtemp(join(tmpdir(), 'hookhub-retention-'));
    archivePool = new Pool({ connectionString: (db.dataSource.options as { url: string }).url, max: 1 });
  }, 30_000);
  afterAll(async () => {
    await archivePool?.end();
    await db?.drop();
    await rm(archiveDir, { recursive: true, force: true });
  }, 30_000);

  const retention = (withArchive: boolean): RetentionService =>
    new RetentionService(
      db.dataSource,
      partitions,
      tenants,
      new RetentionRunRepository(db.dataSource),
      settings,
      withArchive ? new PartitionArchiver(new DirectoryArchiveTarget(archiveDir), archivePool) : undefined,
    );

  /** An event recorded at `at` and its delivery to `sub` (with one attempt), in the partitions of that day. */
  async function history(tenantId: string, sub: string, at: Date, status = 'delivered', deliveryAt = at): Promise<{ eventId: string; deliveryId: string }> {
    await db.seed.partitions(['events'], at);
    await db.seed.partitions(['deliveries', 'delivery_attempts'], deliveryAt);
    const eventId = `evt-${randomUUID()}`;
    await db.dataSource.query(
      `INSERT INTO events (tenant_id, id, type, model_type, model_id, version, change_status, envelope, created_at, recorded_at)
       VALUES ($1, $2, 'ticket.created', 'ticket', $3, 1, 'CREATION', $4, $5, $5)`,
      [tenantId, eventId, randomUUID(), JSON.stringify({ id: eventId }), at],
    );
    const deliveryId = await db.seed.delivery({ tenantId, subscriptionId: sub, eventId, status: status as 'delivered', createdAt: deliveryAt });
    await db.seed.attempt(deliveryId);
    return { eventId, deliveryId };
  }

  async function callback(tenantId: string, connectionId: string, at: Date, state: 'pending' | 'processed'): Promise<string> {
    await db.seed.partitions(['provider_callbacks'], at);
    const id = randomUUID();
    await db.dataSource.query(
      `INSERT INTO provider_callbacks (id, connection_id, tenant_id, provider, digest, method, url, headers, body, received_at, state)
       VALUES ($1, $2, $3, 'sendgrid', $4, 'POST', '/ingest', '{}', '\\x7b7d', $5, $6)`,
      [id, connectionId, tenantId, randomUUID(), at, state],
    );
    return id;
  }

  async function sequentially<T>(n: number, make: () => Promise<T>): Promise<T[]> {
    const made: T[] = [];
    for (let i = 0; i < n; i++) made.push(await make());
    return made;
  }

  const exists = async (table: string, where: string, params: unknown[]): Promise<boolean> =>
    ((await db.dataSource.query(`SELECT 1 FROM ${table} WHERE ${where}`, params)) as unknown[]).length > 0;
  const attached = async (): Promise<Set<string>> => new Set((await partitions.list()).filter((p) => p.attached).map((p) => p.name));

  it('archives, verifies and drops expired partitions, and keeps what live deliveries and pending callbacks still need', async () => {
    const tenantId = await db.seed.tenant();
    const sub = await db.seed.subscription(tenantId);
    const [conn] = (await db.dataSource.query(`INSERT INTO provider_connections (tenant_id, provider) VALUES ($1, 'sendgrid') RETURNING id`, [
      tenantId,
    ])) as Array<{
      id: string;
    }>;
    // 40 days ago: expired and done. 35 days ago: expired, but a delivery there still retries.
    const done = await sequentially(3, () => history(tenantId, sub, ago(40)));
    const retrying = await history(tenantId, sub, ago(35), 'retrying');
    // 33 days ago: an event whose (replayed) delivery was created today and is pending: its event must stay.
    const replayed = await history(tenantId, sub, ago(33), 'pending', ago(0, 0));
    const recent = await history(tenantId, sub, ago(2));
    const oldCallback = await callback(tenantId, conn.id, ago(20), 'processed');
    const stuckCallback = await callback(tenantId, conn.id, ago(16), 'pending');

    const summary = await retention(true).run(now);

    const d40 = dayOf(ago(40));
    const expected = ['events', 'deliveries', 'delivery_attempts'].map((t) => partitionName(t as 'events', d40));
    expected.push(partitionName('provider_callbacks', dayOf(ago(20))));
    expect(summary!.dropped).toEqual(expect.arrayContaining(expected));
    expect(summary!.archived).toEqual(expect.arrayContaining(expected));
    const left = await attached();
    for (const name of expected) expect(left.has(name)).toBe(false);
    for (const d of done) expect(await exists('deliveries', 'id = $1', [d.deliveryId])).toBe(false);
    expect(await exists('provider_callbacks', 'id = $1', [oldCallback])).toBe(false);

    // Kept, with the reason, and still readable.
    const kept = new Map(summary!.kept.map((k) => [k.partition, k.reason]));
    expect(kept.get(partitionName('deliveries', dayOf(ago(35))))).toMatch(/1 deliveries are still pending or retrying/);
    expect(kept.get(partitionName('delivery_attempts', dayOf(ago(35))))).toMatch(/still pending or retrying/);
    expect(kept.get(partitionName('events', dayOf(ago(35))))).toMatch(/need its events/);
    expect(kept.get(partitionName('events', dayOf(ago(33))))).toMatch(/need its events/);
    expect(kept.get(partitionName('provider_callbacks', dayOf(ago(16))))).toMatch(/not processed/);
    expect(await exists('deliveries', 'id = $1', [retrying.deliveryId])).toBe(true);
    expect(await exists('delivery_attempts', 'delivery_id = $1', [retrying.deliveryId])).toBe(true);
    expect(await exists('events', 'id = $1', [retrying.eventId])).toBe(true);
    expect(await exists('events', 'id = $1', [replayed.eventId])).toBe(true);
    expect(await exists('provider_callbacks', 'id = $1', [stuckCallback])).toBe(true);
    expect(await exists('deliveries', 'id = $1', [recent.deliveryId])).toBe(true);

    // The archive holds every dropped row, counted in the manifest.
    const dayDir = join(archiveDir, ...d40.toISOString().slice(0, 10).split('-'));
    const manifest = JSON.parse(await readFile(join(dayDir, 'manifest.json'), 'utf8')) as { files: Array<{ table: string; rows: number }> };
    const rows = Object.fromEntries(manifest.files.map((f) => [f.table, f.rows]));
    expect(rows).toEqual({ events: 3, deliveries: 3, delivery_attempts: 3 });
    const archived = gunzipSync(await readFile(join(dayDir, 'deliveries.ndjson.gz')))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(archived.sort()).toEqual(done.map((d) => d.deliveryId).sort());

    // Once the retry is over, the next run drops the rest of that day.
    await db.dataSource.query(`UPDATE deliveries SET status = 'failed' WHERE id = $1`, [retrying.deliveryId]);
    const next = await retention(false).run(now);
    expect(next!.dropped).toEqual(
      expect.arrayContaining(['events', 'deliveries', 'delivery_attempts'].map((t) => partitionName(t as 'events', dayOf(ago(35))))),
    );
    expect(await exists('events', 'id = $1', [replayed.eventId])).toBe(true);
  });

  it("deletes a tenant's rows past its shorter retention in bounded batches, and nothing of another tenant or still needed", async () => {
    const [short, other] = [await db.seed.tenant(), await db.seed.tenant()];
    const [shortSub, otherSub] = [await db.seed.subscription(short), await db.seed.subscription(other)];
    await tenants.setRetention(short, { events: 3, deliveries: 3, callbacks: null });
    const old = await sequentially(7, () => history(short, shortSub, ago(5)));
    const live = await history(short, shortSub, ago(5), 'retrying');
    const fresh = await history(short, shortSub, ago(1));
    const others = await history(other, otherSub, ago(5));

    // Batches of 3, two per run: 6 of the 7 rows per table go in the first run, the 7th in the second.
    const first = await retention(false).run(now);
    expect(first!.deleted[short]).toMatchObject({ deliveries: 6, delivery_attempts: 6, events: 6 });
    expect(first!.unfinished).toContain(short);
    const second = await retention(false).run(now);
    expect(second!.deleted[short]).toMatchObject({ deliveries: 1, delivery_attempts: 1, events: 1 });
    expect(second!.unfinished).not.toContain(short);

    for (const h of old) {
      expect(await exists('deliveries', 'id = $1', [h.deliveryId])).toBe(false);
      expect(await exists('delivery_attempts', 'delivery_id = $1', [h.deliveryId])).toBe(false);
      expect(await exists('events', 'id = $1', [h.eventId])).toBe(false);
    }
    for (const h of [live, fresh, others]) {
      expect(await exists('deliveries', 'id = $1', [h.deliveryId])).toBe(true);
      expect(await exists('events', 'id = $1', [h.eventId])).toBe(true);
    }
  });

  it('finishes the job of a run interrupted after the detach: the partition is archived and dropped by the next run', async () => {
    const tenantId = await db.seed.tenant();
    const sub = await db.seed.subscription(tenantId);
    const h = await history(tenantId, sub, ago(45));
    const name = partitionName('deliveries', dayOf(ago(45)));
    // What a SIGKILL between the detach and the drop leaves: the partition out of its table, rows intact.
    await db.dataSource.query(`ALTER TABLE deliveries DETACH PARTITION ${name}`);
    expect(await exists(name, 'id = $1', [h.deliveryId])).toBe(true);

    const summary = await retention(true).run(now);
    expect(summary!.archived).toContain(name);
    expect(summary!.dropped).toContain(name);
    expect((await partitions.list()).some((p) => p.name === name)).toBe(false);
    const dayDir = join(archiveDir, ...dayOf(ago(45)).toISOString().slice(0, 10).split('-'));
    expect(await readdir(dayDir)).toEqual(expect.arrayContaining(['deliveries.ndjson.gz', 'manifest.json']));
  });

  it('lets one pod run at a time', async () => {
    const session = await archivePool.connect();
    try {
      await session.query(`SELECT pg_advisory_lock($1)`, [0x686f6f6b_7265]);
      await expect(retention(false).run(now)).resolves.toBeNull();
    } finally {
      await session.query(`SELECT pg_advisory_unlock_all()`);
      session.release();
    }
  });

  it('creates partitions ahead idempotently', async () => {
    const days = [0, 1, 2].map((d) => addDays(dayOf(now), 30 + d));
    const created = await partitions.ensure(days);
    expect(created).toHaveLength(12);
    await expect(partitions.ensure(days)).resolves.toEqual([]);
  });
});
