import { randomUUID } from 'node:crypto';
import { createRepositoryDatabase, RepositoryDatabase } from '../../test/repository-database';
import { DeliveryEntity } from '../entities/delivery.entity';
import { EventEntity } from '../entities/event.entity';
import { SnapshotEntity } from '../entities/snapshot.entity';
import { EventLogRepository } from './event-log.repository';
import { ExistingDelivery, FanOutRepository, NewDeliveryRow } from './fan-out.repository';
import { HELD_REASON, ResourceOrderRepository } from './resource-order.repository';

/** Creating deliveries (the fan-out) and the per-resource order they are created in and released from. */
describe('FanOutRepository and ResourceOrderRepository', () => {
  let db: RepositoryDatabase;
  let fanOut: FanOutRepository;
  let order: ResourceOrderRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createRepositoryDatabase();
    const log = new EventLogRepository(db.dataSource.getRepository(EventEntity), db.dataSource.getRepository(SnapshotEntity));
    fanOut = new FanOutRepository(db.dataSource.getRepository(DeliveryEntity), log);
    order = new ResourceOrderRepository(db.dataSource);
    tenantId = await db.seed.tenant();
  }, 30_000);
  afterAll(() => db?.drop(), 30_000);

  const row = (subscriptionId: string, eventId: string, r: Partial<NewDeliveryRow> = {}): NewDeliveryRow => ({
    id: randomUUID(),
    tenantId,
    subscriptionId,
    eventId,
    eventType: 'ticket.updated',
    ...r,
  });
  const upsert = (rows: NewDeliveryRow[]): Promise<ExistingDelivery[]> => db.dataSource.transaction((m) => fanOut.upsertMany(m, rows));
  /** Events 1..n of one resource. */
  async function versions(n: number): Promise<string[]> {
    const modelId = randomUUID();
    const ids: string[] = [];
    for (let v = 1; v <= n; v++) ids.push(await db.seed.event(tenantId, { modelId, version: v, type: 'ticket.updated' }));
    return ids;
  }
  const setStatus = (id: string, status: string) => db.dataSource.query(`UPDATE deliveries SET status = $2 WHERE id = $1`, [id, status]);
  async function reasonAndDue(id: string): Promise<{ held: boolean; parked: boolean; reason: string | null }> {
    const [r] = await db.dataSource.query(`SELECT parked AND next_attempt_at IS NULL AS held, parked, reason FROM deliveries WHERE id = $1`, [id]);
    return r;
  }

  describe('upsertMany', () => {
    it('creates each pair once: a second fan-out of the same events returns the deliveries of the first', async () => {
      const [a, b] = [await db.seed.subscription(tenantId), await db.seed.subscription(tenantId)];
      const [e] = await versions(1);
      const bySubscription = (ds: ExistingDelivery[]) => [...ds].sort((x, y) => [a, b].indexOf(x.subscriptionId) - [a, b].indexOf(y.subscriptionId));
      const first = bySubscription(await upsert([row(a, e), row(b, e)]));
      expect(first.map((d) => [d.subscriptionId, d.created, d.status, d.parked, d.held, d.resourceVersion])).toEqual([
        [a, true, 'pending', false, false, 1],
        [b, true, 'pending', false, false, 1],
      ]);

      const again = bySubscription(await upsert([row(a, e), row(b, e)]));
      expect(again.map((d) => [d.id, d.created])).toEqual(first.map((d) => [d.id, false]));
      const [count] = await db.dataSource.query(`SELECT count(*)::int AS n FROM deliveries WHERE event_id = $1`, [e]);
      expect(count.n).toBe(2);
    });

    it('creates one delivery for an event that came twice in one batch (soak seed 20261130: the second copy broke strict order)', async () => {
      const sub = await db.seed.subscription(tenantId);
      const [e] = await versions(1);
      const planned = await upsert([row(sub, e), row(sub, e)]);
      expect(planned.map((d) => d.created)).toEqual([true]);
      const [count] = await db.dataSource.query(`SELECT count(*)::int AS n FROM deliveries WHERE event_id = $1`, [e]);
      expect(count.n).toBe(1);
    });

    it('skips a subscription deleted since it was read, and creates the others', async () => {
      const kept = await db.seed.subscription(tenantId);
      const [e] = await versions(1);
      const created = await fanOut.ensureForEvents([row(randomUUID(), e), row(kept, e)]);
      expect(created.map((d) => d.subscriptionId)).toEqual([kept]);
    });

    it('creates a delivery parked for its delay when its subscription is saturated', async () => {
      const sub = await db.seed.subscription(tenantId);
      const [e] = await versions(1);
      const [d] = await upsert([row(sub, e, { parkMs: 30_000 })]);
      expect(d).toMatchObject({ parked: true, held: false });
      const [r] = await db.dataSource.query(
        `SELECT reason, next_attempt_at BETWEEN now() + interval '29 seconds' AND now() + interval '31 seconds' AS in_30s FROM deliveries WHERE id = $1`,
        [d.id],
      );
      expect(r).toEqual({ reason: 'waiting: the endpoint has too many requests open', in_30s: true });
    });

    it('holds a later version of a resource behind an earlier one of the same batch, per subscription', async () => {
      const [a, b] = [await db.seed.subscription(tenantId), await db.seed.subscription(tenantId)];
      const [v1, v2] = await versions(2);
      const created = await upsert([row(a, v2), row(a, v1), row(b, v2)]);
      const of = (sub: string, event: string) => created.find((d) => d.subscriptionId === sub && d.eventId === event)!;
      expect(of(a, v1).held).toBe(false);
      expect(of(a, v2).held).toBe(true);
      expect(of(b, v2).held).toBe(false);
      expect(await reasonAndDue(of(a, v2).id)).toEqual({ held: true, parked: true, reason: HELD_REASON });
    });

    it.each([
      ['pending', 'default', true],
      ['retrying', 'default', false],
      ['retrying', 'strict', true],
      ['delivered', 'strict', false],
      ['failed', 'strict', false],
    ] as const)('holds behind a stored previous delivery that is %s (ordering %s): %s', async (status, ordering, held) => {
      const sub = await db.seed.subscription(tenantId, { ordering });
      const [v1, v2] = await versions(2);
      const [previous] = await upsert([row(sub, v1)]);
      await setStatus(previous.id, status);
      const [next] = await upsert([row(sub, v2)]);
      expect(next.held).toBe(held);
    });
  });

  describe('releases', () => {
    it('releases the next held delivery once its previous one is settled, and only that one', async () => {
      const sub = await db.seed.subscription(tenantId);
      const [v1, v2, v3] = await versions(3);
      const [d1, d2, d3] = (await upsert([row(sub, v1), row(sub, v2), row(sub, v3)])).sort((x, y) => x.resourceVersion! - y.resourceVersion!);
      expect([d1.held, d2.held, d3.held]).toEqual([false, true, true]);

      await expect(order.releaseSuccessorsOf([d1.id])).resolves.toBe(0); // d1 is still in flight
      await setStatus(d1.id, 'delivered');
      await expect(order.releaseSuccessorsOf([d1.id])).resolves.toBe(1);
      expect(await reasonAndDue(d2.id)).toEqual({ held: false, parked: true, reason: null });
      // d3 waits for d2, which is released but not settled.
      expect((await reasonAndDue(d3.id)).held).toBe(true);
      await expect(order.releaseIfUnblocked([d3.id])).resolves.toBe(0);
      await setStatus(d2.id, 'delivered');
      await expect(order.releaseIfUnblocked([d3.id])).resolves.toBe(1);
      expect((await reasonAndDue(d3.id)).held).toBe(false);
    });

    it('sweeps held deliveries whose wait is over only once they have been untouched long enough', async () => {
      const sub = await db.seed.subscription(tenantId);
      const [v1, v2] = await versions(2);
      const [d1, d2] = (await upsert([row(sub, v1), row(sub, v2)])).sort((x, y) => x.resourceVersion! - y.resourceVersion!);
      await setStatus(d1.id, 'delivered'); // its releaser "died": nobody released d2
      await expect(order.releaseStranded(60_000, 100)).resolves.toBe(0);
      await db.dataSource.query(`UPDATE deliveries SET updated_at = now() - interval '2 minutes' WHERE id = $1`, [d2.id]);
      await expect(order.releaseStranded(60_000, 100)).resolves.toBe(1);
      expect((await reasonAndDue(d2.id)).held).toBe(false);
    });

    it('finds the held deliveries whose wait is over among more waiting ones than one sweep takes (soak seed 20261201)', async () => {
      const sub = await db.seed.subscription(tenantId);
      // Resource A: its first delivery is in flight, so its four held ones still wait.
      const a = (await upsert((await versions(5)).map((v) => row(sub, v)))).sort((x, y) => x.resourceVersion! - y.resourceVersion!);
      // Resource B, held after them: its first delivery settled and its releaser "died".
      const b = (await upsert((await versions(2)).map((v) => row(sub, v)))).sort((x, y) => x.resourceVersion! - y.resourceVersion!);
      expect([...a, ...b].map((r) => r.held)).toEqual([false, true, true, true, true, false, true]);
      await setStatus(b[0].id, 'delivered');
      await db.dataSource.query(`UPDATE deliveries SET updated_at = now() - interval '2 minutes' WHERE id = ANY($1)`, [[...a, ...b].map((r) => r.id)]);
      // A sweep taking three at a time must still reach B's, past A's four.
      await expect(order.releaseStranded(60_000, 3)).resolves.toBe(1);
      expect((await reasonAndDue(b[1].id)).held).toBe(false);
      expect(await Promise.all(a.slice(1).map(async (r) => (await reasonAndDue(r.id)).held))).toEqual([true, true, true, true]);
    });

    it('releases the same held deliveries from several statements at once without a deadlock (soak seed 20261201 logged them)', async () => {
      const sub = await db.seed.subscription(tenantId);
      for (let round = 0; round < 10; round++) {
        // 40 resources, each with a settled first delivery and a held second one that nobody has released yet.
        const pairs = await Promise.all(
          Array.from({ length: 40 }, async () =>
            (await upsert((await versions(2)).map((v) => row(sub, v)))).sort((x, y) => x.resourceVersion! - y.resourceVersion!),
          ),
        );
        const firsts = pairs.map(([d1]) => d1.id);
        const seconds = pairs.map(([, d2]) => d2.id);
        await db.dataSource.query(`UPDATE deliveries SET status = 'delivered' WHERE id = ANY($1)`, [firsts]);
        await db.dataSource.query(`UPDATE deliveries SET updated_at = now() - interval '2 minutes' WHERE id = ANY($1)`, [seconds]);
        // The pod that recorded the first attempts, the pods that created the held ones (in their own orders) and the sweep.
        const released = await Promise.all([
          order.releaseSuccessorsOf([...firsts].reverse()),
          order.releaseIfUnblocked(seconds),
          order.releaseIfUnblocked([...seconds].reverse()),
          order.releaseSuccessorsOf(firsts),
          order.releaseStranded(60_000, 500),
        ]);
        expect(released.reduce((a, b) => a + b, 0)).toBe(40);
      }
    }, 60_000);
  });
});
