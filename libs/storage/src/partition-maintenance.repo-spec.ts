import { Logger } from '@nestjs/common';
import { PartitionRepository } from '@hookhub/persistence';
import { createRepositoryDatabase, RepositoryDatabase } from '../../persistence/test/repository-database';
import { PartitionMaintenance } from './partition-maintenance';
import { StorageSettings } from './storage.settings';

/** The statistics of the partitioned tables as a whole, which autovacuum never gathers. */
describe('PartitionMaintenance.analyzeGrown', () => {
  let db: RepositoryDatabase;
  let maintenance: PartitionMaintenance;
  const settings: StorageSettings = {
    retentionDays: { events: 30, deliveries: 30, callbacks: 14 },
    aheadDays: 3,
    intervalMs: 60_000,
    deleteBatch: 100,
    deleteBatchesPerRun: 1,
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createRepositoryDatabase();
    maintenance = new PartitionMaintenance(new PartitionRepository(db.dataSource), settings);
  }, 30_000);
  afterAll(() => db?.drop(), 30_000);

  const analysedRows = async (): Promise<number> =>
    Number(((await db.dataSource.query(`SELECT reltuples FROM pg_class WHERE relname = 'deliveries'`)) as Array<{ reltuples: number }>)[0].reltuples);

  /** Until the statistics collector has counted the inserts (it reports them within a second or so). */
  async function analysedOnceCounted(): Promise<string[]> {
    for (let i = 0; i < 50; i++) {
      const analysed = await maintenance.analyzeGrown();
      if (analysed.includes('deliveries')) return analysed;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('deliveries was never analysed');
  }

  it('analyses a table that has grown, once for every pod, and again only once its rows moved past the floor (1,000 rows, or a tenth when more)', async () => {
    const tenantId = await db.seed.tenant();
    const sub = await db.seed.subscription(tenantId);
    await expect(maintenance.analyzeGrown()).resolves.toEqual([]);
    expect(await analysedRows()).toBe(-1);

    await db.dataSource.query(
      `INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status)
       SELECT gen_random_uuid(), $1, $2, 'e-' || i, 'ticket.created', 'delivered' FROM generate_series(1, 1500) i`,
      [tenantId, sub],
    );
    await analysedOnceCounted();
    expect(await analysedRows()).toBe(1500);
    // Another pod (another instance) finds the table's statistics current.
    const otherPod = new PartitionMaintenance(new PartitionRepository(db.dataSource), settings);
    expect(await otherPod.analyzeGrown()).not.toContain('deliveries');

    // 999 more rows stay under the floor of 1,000 (a tenth of 1,500 would be 150); the 1,000th goes over it.
    await db.dataSource.query(
      `INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status)
       SELECT gen_random_uuid(), $1, $2, 'f-' || i, 'ticket.created', 'delivered' FROM generate_series(1, 999) i`,
      [tenantId, sub],
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await maintenance.analyzeGrown()).not.toContain('deliveries');
    await db.dataSource.query(
      `INSERT INTO deliveries (id, tenant_id, subscription_id, event_id, event_type, status) VALUES (gen_random_uuid(), $1, $2, 'g-1', 'ticket.created', 'delivered')`,
      [tenantId, sub],
    );
    await analysedOnceCounted();
    expect(await analysedRows()).toBe(2500);
  }, 30_000);
});
