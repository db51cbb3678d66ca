import { createRepositoryDatabase, RepositoryDatabase } from '../../test/repository-database';
import { DeliveryAttemptEntity } from '../entities/delivery-attempt.entity';
import { DeliveryEntity } from '../entities/delivery.entity';
import { DeliveryLogRepository } from './delivery-log.repository';

/** Its paging is covered with the other lists in keyset.repo-spec.ts. */
describe('DeliveryLogRepository', () => {
  let db: RepositoryDatabase;
  let log: DeliveryLogRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createRepositoryDatabase();
    log = new DeliveryLogRepository(db.dataSource.getRepository(DeliveryEntity), db.dataSource.getRepository(DeliveryAttemptEntity));
    tenantId = await db.seed.tenant();
  }, 30_000);
  afterAll(() => db?.drop(), 30_000);

  it("picks a subscription's deliveries in the given states created since a time, oldest first (what a replay of failures sends)", async () => {
    const sub = await db.seed.subscription(tenantId);
    const other = await db.seed.subscription(tenantId);
    const at = (iso: string) => new Date(iso);
    const early = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'failed', createdAt: at('2026-01-01T00:00:00Z') });
    const later = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'failed', createdAt: at('2026-01-03T00:00:00Z') });
    const first = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'failed', createdAt: at('2026-01-02T00:00:00Z') });
    await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'delivered', createdAt: at('2026-01-02T00:00:00Z') });
    await db.seed.delivery({ tenantId, subscriptionId: other, status: 'failed', createdAt: at('2026-01-02T00:00:00Z') });

    await expect(log.idsSince(tenantId, sub, at('2026-01-02T00:00:00Z'), ['failed'])).resolves.toEqual([first, later]);
    await expect(log.idsSince(tenantId, sub, at('2025-12-31T00:00:00Z'), ['failed'])).resolves.toEqual([early, first, later]);
    const otherTenant = await db.seed.tenant();
    await expect(log.idsSince(otherTenant, sub, at('2025-12-31T00:00:00Z'), ['failed'])).resolves.toEqual([]);
  });

  it('finds a delivery only for its tenant, and lists its attempts in order', async () => {
    const sub = await db.seed.subscription(tenantId);
    const id = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'delivered', attemptCount: 2 });
    for (const attempt of [2, 1]) {
      await db.seed.attempt(id, { attempt, outcome: attempt === 2 ? 'success' : 'failure' });
    }
    await expect(log.findForTenant(tenantId, id)).resolves.toMatchObject({ id, status: 'delivered', attemptCount: 2 });
    await expect(log.findForTenant(await db.seed.tenant(), id)).resolves.toBeNull();
    expect((await log.listAttempts(id)).map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'failure'],
      [2, 'success'],
    ]);
  });
});
