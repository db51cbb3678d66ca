import { randomUUID } from 'node:crypto';
import { createRepositoryDatabase, RepositoryDatabase } from '../../test/repository-database';
import { SubscriptionEntity } from '../entities/subscription.entity';
import { SubscriptionRepository } from './subscription.repository';

describe('SubscriptionRepository', () => {
  let db: RepositoryDatabase;
  let subscriptions: SubscriptionRepository;

  beforeAll(async () => {
    db = await createRepositoryDatabase();
    subscriptions = new SubscriptionRepository(db.dataSource.getRepository(SubscriptionEntity));
  }, 30_000);
  afterAll(() => db?.drop(), 30_000);

  describe('listing by the event type a subscription receives', () => {
    let tenantId: string;
    const ids = new Map<string, string>();

    beforeAll(async () => {
      tenantId = await db.seed.tenant();
      for (const patterns of [
        ['*'],
        ['ticket.*'],
        ['ticket.created'],
        ['ticket.updated'],
        ['webhook.*'],
        ['webhook.disabled'],
        ['message.*', 'ticket.created'],
      ]) {
        ids.set(patterns.join(','), await db.seed.subscription(tenantId, { eventTypes: patterns }));
      }
      ids.set('disabled ticket.*', await db.seed.subscription(tenantId, { eventTypes: ['ticket.*'], state: 'disabled' }));
    });

    const receivers = async (eventType: string, state?: 'active' | 'disabled'): Promise<string[]> => {
      const page = await subscriptions.listForTenant(tenantId, 100, undefined, { eventType, state });
      const names = new Map([...ids].map(([name, id]) => [id, name]));
      return page.items.map((s) => names.get(s.id)!).sort();
    };

    it('matches a domain event exactly, by its group and by *', async () => {
      await expect(receivers('ticket.created')).resolves.toEqual(['*', 'disabled ticket.*', 'message.*,ticket.created', 'ticket.*', 'ticket.created']);
      await expect(receivers('message.created')).resolves.toEqual(['*', 'message.*,ticket.created']);
    });

    it('matches a system event only by its name or webhook.*, never by *', async () => {
      await expect(receivers('webhook.disabled')).resolves.toEqual(['webhook.*', 'webhook.disabled']);
    });

    it('combines the type with the state', async () => {
      await expect(receivers('ticket.created', 'disabled')).resolves.toEqual(['disabled ticket.*']);
    });
  });

  it("finds the fan-out's candidates: the active subscriptions of the given tenants only", async () => {
    const [t1, t2, t3] = [await db.seed.tenant(), await db.seed.tenant(), await db.seed.tenant()];
    const active = [await db.seed.subscription(t1), await db.seed.subscription(t2)];
    await db.seed.subscription(t1, { state: 'disabled' });
    await db.seed.subscription(t2, { state: 'pending_verification' });
    await db.seed.subscription(t3);
    const found = await subscriptions.findActiveForTenants([t1, t2]);
    expect(found.map((s) => s.id).sort()).toEqual(active.sort());
    await expect(subscriptions.findActiveForTenants([])).resolves.toEqual([]);
  });

  it('deletes a subscription with its deliveries and attempts, and not one of another tenant', async () => {
    const [tenantId, other] = [await db.seed.tenant(), await db.seed.tenant()];
    const sub = await db.seed.subscription(tenantId);
    const delivery = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', parked: true, dueInMs: 1_000 });
    await db.seed.attempt(delivery);

    await expect(subscriptions.deleteForTenant(other, sub)).resolves.toBe(false);
    await expect(subscriptions.deleteForTenant(tenantId, sub)).resolves.toBe(true);
    const [left] = await db.dataSource.query(
      `SELECT (SELECT count(*) FROM deliveries WHERE id = $1)::int AS deliveries, (SELECT count(*) FROM delivery_attempts WHERE delivery_id = $1)::int AS attempts`,
      [delivery],
    );
    expect(left).toEqual({ deliveries: 0, attempts: 0 });
  });

  it('enables a disabled subscription with a clean failure record', async () => {
    const tenantId = await db.seed.tenant();
    const sub = await db.seed.subscription(tenantId, { consecutiveFailures: 12 });
    await subscriptions.disable(tenantId, sub, 'too many failures');
    await db.dataSource.query(`UPDATE subscriptions SET failing_since = now() WHERE id = $1`, [sub]);

    const enabled = await subscriptions.enable(tenantId, sub, 'active', null);
    expect(enabled).toMatchObject({ state: 'active', stateReason: null, consecutiveFailures: 0, failingSince: null, disabledAt: null });
  });

  it('adds the counts of filtered events in bulk; saving a subscription read earlier keeps them', async () => {
    const tenantId = await db.seed.tenant();
    const created = await subscriptions.create({
      tenantId,
      url: 'https://example.com/hook',
      eventTypes: ['ticket.*'],
      filter: { 'model.priority': { $in: ['high'] } },
      retryPolicyMs: [1000],
      state: 'active',
    });
    const [a, b] = [created.id, await db.seed.subscription(tenantId)];
    const stale = (await subscriptions.findForTenant(tenantId, a))!;
    expect(stale).toMatchObject({ filter: { 'model.priority': { $in: ['high'] } }, filteredCount: 0 });

    await subscriptions.addFilteredCounts(
      new Map([
        [a, 3],
        [b, 1],
      ]),
    );
    await subscriptions.addFilteredCounts(
      new Map([
        [a, 2],
        [randomUUID(), 5], // deleted meanwhile: nothing to add to
      ]),
    );
    await subscriptions.addFilteredCounts(new Map());
    stale.filter = null;
    await subscriptions.save(stale);

    await expect(subscriptions.findForTenant(tenantId, a)).resolves.toMatchObject({ filter: null, filteredCount: 5 });
    await expect(subscriptions.findForTenant(tenantId, b)).resolves.toMatchObject({ filter: null, filteredCount: 1 });
  });
});
