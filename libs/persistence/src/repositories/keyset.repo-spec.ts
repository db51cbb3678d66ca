import { randomUUID } from 'node:crypto';
import { createRepositoryDatabase, RepositoryDatabase } from '../../test/repository-database';
import { DeliveryAttemptEntity } from '../entities/delivery-attempt.entity';
import { DeliveryEntity } from '../entities/delivery.entity';
import { ProviderCallbackEntity } from '../entities/provider-callback.entity';
import { ProviderConnectionEntity } from '../entities/provider-connection.entity';
import { SubscriptionEntity } from '../entities/subscription.entity';
import { DeliveryLogRepository } from './delivery-log.repository';
import { Page } from './keyset';
import { ProviderCallbackRepository } from './provider-callback.repository';
import { ProviderConnectionRepository } from './provider-connection.repository';
import { SubscriptionRepository } from './subscription.repository';

/** The four admin lists page newest first with a cursor: every row once, in order, whatever the ties. */
describe('keyset pages', () => {
  let db: RepositoryDatabase;
  let tenantId: string;
  let otherTenant: string;

  beforeAll(async () => {
    db = await createRepositoryDatabase();
    tenantId = await db.seed.tenant();
    otherTenant = await db.seed.tenant();
  }, 30_000);
  afterAll(() => db?.drop(), 30_000);

  /** Follows the cursors from the first page to the last. */
  async function allPages<T extends { id: string }>(read: (cursor?: string) => Promise<Page<T>>): Promise<{ pages: string[][]; ids: string[] }> {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await read(cursor);
      pages.push(page.items.map((i) => i.id));
      cursor = page.nextCursor ?? undefined;
      if (pages.length > 50) throw new Error('the cursors never end');
    } while (cursor);
    return { pages, ids: pages.flat() };
  }

  /** Newest first, ties by id descending: what the pages must add up to. */
  const expectedOrder = (rows: Array<{ id: string; at: Date }>): string[] =>
    [...rows].sort((a, b) => b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((r) => r.id);

  // Three rows share each of three timestamps: pages of 2 cut through every group of ties.
  const times = [new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T00:00:00Z'), new Date('2026-01-03T00:00:00Z')];
  const tied = times.flatMap((t) => [t, t, t]);

  describe('deliveries of a subscription', () => {
    let log: DeliveryLogRepository;
    let sub: string;
    let rows: Array<{ id: string; at: Date }>;

    beforeAll(async () => {
      log = new DeliveryLogRepository(db.dataSource.getRepository(DeliveryEntity), db.dataSource.getRepository(DeliveryAttemptEntity));
      sub = await db.seed.subscription(tenantId);
      const otherSub = await db.seed.subscription(tenantId);
      rows = [];
      for (const at of tied)
        rows.push({ id: await db.seed.delivery({ tenantId, subscriptionId: sub, createdAt: at, status: rows.length % 2 ? 'failed' : 'delivered' }), at });
      await db.seed.delivery({ tenantId, subscriptionId: otherSub, createdAt: times[1] });
    });

    it('never repeat or skip a row, even among equal timestamps, and the last page says it is the last', async () => {
      const { pages, ids } = await allPages((cursor) => log.pageForSubscription(tenantId, sub, { limit: 2, cursor }));
      expect(ids).toEqual(expectedOrder(rows));
      expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 2, 1]);
    });

    it('give no further page when the rows end exactly at a page boundary', async () => {
      const { pages } = await allPages((cursor) => log.pageForSubscription(tenantId, sub, { limit: 3, cursor }));
      expect(pages.map((p) => p.length)).toEqual([3, 3, 3]);
    });

    it('keep the filters on every page', async () => {
      const { ids } = await allPages((cursor) => log.pageForSubscription(tenantId, sub, { status: 'failed', since: times[1], limit: 1, cursor }));
      // Odd rows were seeded failed.
      expect(ids).toEqual(expectedOrder(rows.filter((r, i) => i % 2 === 1 && r.at >= times[1])));
      expect(ids).toHaveLength(3);
    });

    it("position nothing with another tenant's cursor", async () => {
      const first = await log.pageForSubscription(tenantId, sub, { limit: 2 });
      const page = await log.pageForSubscription(otherTenant, sub, { limit: 2, cursor: first.nextCursor! });
      expect(page).toEqual({ items: [], nextCursor: null });
    });
  });

  describe('callbacks of a provider connection', () => {
    it('never repeat or skip a row among equal receipt times, and ignore a cursor from another connection', async () => {
      const connections = new ProviderConnectionRepository(db.dataSource.getRepository(ProviderConnectionEntity));
      const callbacks = new ProviderCallbackRepository(db.dataSource.getRepository(ProviderCallbackEntity));
      const conn = await connections.create({ tenantId, provider: 'sendgrid' });
      const other = await connections.create({ tenantId, provider: 'sendgrid' });
      const rows: Array<{ id: string; at: Date }> = [];
      for (const at of tied) {
        await db.seed.partitions(['provider_callbacks'], at);
        const c = await callbacks.insertPending(
          {
            id: randomUUID(),
            connectionId: conn.id,
            tenantId,
            provider: 'sendgrid',
            digest: randomUUID(),
            method: 'POST',
            url: '/in',
            headers: {},
            body: Buffer.from('{}'),
            receivedAt: at,
          },
          60_000,
        );
        rows.push({ id: c!.id, at });
      }

      const { ids, pages } = await allPages((cursor) => callbacks.pageForConnection(tenantId, conn.id, 2, cursor));
      expect(ids).toEqual(expectedOrder(rows));
      expect(pages).toHaveLength(5);
      const first = await callbacks.pageForConnection(tenantId, conn.id, 2);
      await expect(callbacks.pageForConnection(tenantId, other.id, 2, first.nextCursor!)).resolves.toEqual({ items: [], nextCursor: null });
    });
  });

  describe("a tenant's subscriptions and provider connections", () => {
    it('never repeat or skip a row among equal creation times', async () => {
      const tenant = await db.seed.tenant();
      const subscriptions = new SubscriptionRepository(db.dataSource.getRepository(SubscriptionEntity));
      const connections = new ProviderConnectionRepository(db.dataSource.getRepository(ProviderConnectionEntity));
      const subs: Array<{ id: string; at: Date }> = [];
      const conns: Array<{ id: string; at: Date }> = [];
      for (const at of tied) {
        subs.push({ id: await db.seed.subscription(tenant, { createdAt: at }), at });
        const c = await connections.create({ tenantId: tenant, provider: 'twilio' });
        await db.dataSource.query(`UPDATE provider_connections SET created_at = $2 WHERE id = $1`, [c.id, at]);
        conns.push({ id: c.id, at });
      }
      expect((await allPages((cursor) => subscriptions.listForTenant(tenant, 2, cursor))).ids).toEqual(expectedOrder(subs));
      expect((await allPages((cursor) => connections.listForTenant(tenant, 4, cursor))).ids).toEqual(expectedOrder(conns));
    });
  });
});
