import { createRepositoryDatabase, RepositoryDatabase } from '../../test/repository-database';
import { DeliveryEntity } from '../entities/delivery.entity';
import { SubscriptionEntity } from '../entities/subscription.entity';
import { DueRetry, QueuedAttempt, RetryScheduleRepository } from './retry-schedule.repository';
import { SubscriptionRepository } from './subscription.repository';

describe('RetryScheduleRepository', () => {
  let db: RepositoryDatabase;
  let schedule: RetryScheduleRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createRepositoryDatabase();
    schedule = new RetryScheduleRepository(db.dataSource.getRepository(DeliveryEntity));
    tenantId = await db.seed.tenant();
  }, 30_000);
  afterAll(() => db?.drop(), 30_000);
  // Each test sees only its own parked rows: the scheduler claims from the whole table.
  beforeEach(() => db.dataSource.query('DELETE FROM deliveries'));

  const enqueueAll = (seen: DueRetry[][]) => async (due: DueRetry[]) => {
    seen.push(due);
    return due.map((d) => d.deliveryId);
  };

  describe('releaseDueRetries', () => {
    it('hands over only parked rows whose time has come, oldest first, and un-parks them', async () => {
      const sub = await db.seed.subscription(tenantId);
      const older = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', attemptCount: 2, parked: true, dueInMs: -5_000 });
      const due = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', attemptCount: 1, parked: true, dueInMs: -1_000 });
      const future = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', parked: true, dueInMs: 60_000 });
      const held = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'pending', parked: true, dueInMs: null });
      const notParked = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', parked: false, dueInMs: -1_000 });

      const seen: DueRetry[][] = [];
      await expect(schedule.releaseDueRetries(10, enqueueAll(seen))).resolves.toBe(2);

      expect(seen).toHaveLength(1);
      expect(seen[0].map((d) => [d.deliveryId, d.subscriptionId, d.attempt])).toEqual([
        [older, sub, 3],
        [due, sub, 2],
      ]);
      const rows = await db.seed.deliveries([older, due, future, held, notParked]);
      expect([older, due, future, held, notParked].map((id) => rows.get(id)!.parked)).toEqual([false, false, true, true, false]);
    });

    it('claims at most `limit` rows per pass', async () => {
      const sub = await db.seed.subscription(tenantId);
      for (let i = 0; i < 5; i++) await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', parked: true, dueInMs: -1_000 - i });
      const seen: DueRetry[][] = [];
      await expect(schedule.releaseDueRetries(3, enqueueAll(seen))).resolves.toBe(3);
      await expect(schedule.releaseDueRetries(3, enqueueAll(seen))).resolves.toBe(2);
      await expect(schedule.releaseDueRetries(3, enqueueAll(seen))).resolves.toBe(0);
      expect(new Set(seen.flat().map((d) => d.deliveryId)).size).toBe(5);
    });

    it('keeps parked what the enqueue did not store, for the next pass', async () => {
      const sub = await db.seed.subscription(tenantId);
      const stored = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', parked: true, dueInMs: -2_000 });
      const failed = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', parked: true, dueInMs: -1_000 });

      await expect(schedule.releaseDueRetries(10, async () => [stored])).resolves.toBe(1);
      const rows = await db.seed.deliveries([stored, failed]);
      expect(rows.get(stored)!.parked).toBe(false);
      expect(rows.get(failed)!.parked).toBe(true);

      const seen: DueRetry[][] = [];
      await schedule.releaseDueRetries(10, enqueueAll(seen));
      expect(seen.flat().map((d) => d.deliveryId)).toEqual([failed]);
    });

    it('leaves everything parked when the enqueue throws (the transaction rolls back)', async () => {
      const sub = await db.seed.subscription(tenantId);
      const id = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', parked: true, dueInMs: -1_000 });
      await expect(schedule.releaseDueRetries(10, async () => Promise.reject(new Error('NATS down')))).rejects.toThrow('NATS down');
      expect((await db.seed.deliveries([id])).get(id)!.parked).toBe(true);
    });

    it('never hands one row to two schedulers running at once (SKIP LOCKED)', async () => {
      const sub = await db.seed.subscription(tenantId);
      for (let i = 0; i < 6; i++) await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', parked: true, dueInMs: -1_000 - i });
      const seen: DueRetry[][] = [];
      // The first pass holds its rows while the second claims: the second must skip them, not wait or repeat them.
      let releaseFirst!: () => void;
      const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
      const first = schedule.releaseDueRetries(3, async (due) => {
        seen.push(due);
        await firstHolds;
        return due.map((d) => d.deliveryId);
      });
      await new Promise((r) => setTimeout(r, 100));
      const second = await schedule.releaseDueRetries(10, enqueueAll(seen));
      releaseFirst();
      expect((await first) + second).toBe(6);
      const ids = seen.flat().map((d) => d.deliveryId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(6);
    });
  });

  describe('sweepOverdue', () => {
    const nextAttemptAt = async (id: string): Promise<Date | null> =>
      ((await db.dataSource.query(`SELECT next_attempt_at FROM deliveries WHERE id = $1`, [id])) as Array<{ next_attempt_at: Date | null }>)[0].next_attempt_at;

    it('looks only at attempts waiting on the retries stream and due longer ago than the limit; parks the lost ones due now', async () => {
      const sub = await db.seed.subscription(tenantId);
      const lost = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', attemptCount: 2, dueInMs: -600_000 });
      const waiting = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'pending', dueInMs: -300_000 });
      const recent = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', attemptCount: 1, dueInMs: -10_000 });
      const parked = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', parked: true, dueInMs: -600_000 });
      const done = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'failed', attemptCount: 3, dueInMs: -600_000 });
      const inFirstAttempt = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'pending', dueInMs: null });

      const seen: QueuedAttempt[][] = [];
      const result = await schedule.sweepOverdue(60_000, 10, async (queued) => {
        seen.push(queued);
        return [lost];
      });

      expect(result).toEqual({ checked: 2, lost: 1 });
      expect(seen).toEqual([
        [
          { deliveryId: lost, subscriptionId: sub, attempt: 3 },
          { deliveryId: waiting, subscriptionId: sub, attempt: 1 },
        ],
      ]);
      const rows = await db.seed.deliveries([lost, waiting, recent, parked, done, inFirstAttempt]);
      // The lost one is parked and due: the scheduler's next release enqueues it.
      expect(rows.get(lost)).toMatchObject({ status: 'retrying', parked: true, due: true, attemptCount: 2 });
      // The one whose job is there moves to the back of the line, still waiting on the stream.
      expect(rows.get(waiting)).toMatchObject({ status: 'pending', parked: false });
      expect(Date.now() - (await nextAttemptAt(waiting))!.getTime()).toBeLessThan(5_000);
      expect(rows.get(parked)!.parked).toBe(true);
      expect(rows.get(done)!.parked).toBe(false);
      expect(await nextAttemptAt(inFirstAttempt)).toBeNull();
      // Neither comes again in the next pass.
      await expect(schedule.sweepOverdue(60_000, 10, async () => [])).resolves.toEqual({ checked: 0, lost: 0 });
    });

    it('claims at most `limit` rows, the longest overdue first', async () => {
      const sub = await db.seed.subscription(tenantId);
      const ids: string[] = [];
      for (let i = 0; i < 4; i++)
        ids.push(await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', attemptCount: 1, dueInMs: -600_000 + i * 1_000 }));
      const seen: string[] = [];
      await schedule.sweepOverdue(60_000, 3, async (queued) => {
        seen.push(...queued.map((q) => q.deliveryId));
        return [];
      });
      expect(seen).toEqual(ids.slice(0, 3));
    });

    it('changes nothing when the lookup fails (the transaction rolls back)', async () => {
      const sub = await db.seed.subscription(tenantId);
      const id = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', attemptCount: 1, dueInMs: -600_000 });
      await expect(schedule.sweepOverdue(60_000, 10, async () => Promise.reject(new Error('NATS down')))).rejects.toThrow('NATS down');
      expect(Date.now() - (await nextAttemptAt(id))!.getTime()).toBeGreaterThan(590_000);
      expect((await db.seed.deliveries([id])).get(id)!.parked).toBe(false);
    });
  });

  describe('markQueued', () => {
    it('marks a pending delivery outside any line as waiting on the retries stream, once', async () => {
      const sub = await db.seed.subscription(tenantId);
      const pending = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'pending', dueInMs: null });
      const held = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'pending', parked: true, dueInMs: null });
      const delivered = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'delivered', attemptCount: 1, dueInMs: null });
      for (const id of [pending, held, delivered]) await schedule.markQueued(id);
      const rows = await db.seed.deliveries([pending, held, delivered]);
      expect(rows.get(pending)).toMatchObject({ status: 'pending', parked: false, due: true });
      expect(rows.get(held)!.due).toBeNull();
      expect(rows.get(delivered)!.due).toBeNull();
    });
  });

  describe('loadRetryContexts', () => {
    it("returns each delivery's state with its event's envelope and recorded change status, and nothing for unknown ids", async () => {
      const sub = await db.seed.subscription(tenantId);
      const eventId = await db.seed.event(tenantId, { envelope: { id: 'e1', type: 'ticket.created', model: { id: 7 } } });
      const id = await db.seed.delivery({
        tenantId,
        subscriptionId: sub,
        eventId,
        status: 'retrying',
        attemptCount: 2,
        resource: 'ticket/7',
        resourceVersion: 4,
      });
      const unknown = '00000000-0000-4000-8000-000000000000';

      const contexts = await schedule.loadRetryContexts([id, unknown]);
      expect([...contexts.keys()]).toEqual([id]);
      expect(contexts.get(id)).toEqual({
        id,
        tenantId,
        subscriptionId: sub,
        status: 'retrying',
        attemptCount: 2,
        resourceVersion: 4,
        envelope: { id: 'e1', type: 'ticket.created', model: { id: 7 } },
        schemaVersion: 1,
        changeStatus: 'CREATION',
      });
    });
  });

  describe('requeue', () => {
    it("puts the tenant's deliveries back in line, due now, and ignores another tenant's", async () => {
      const otherTenant = await db.seed.tenant();
      const sub = await db.seed.subscription(tenantId);
      const otherSub = await db.seed.subscription(otherTenant);
      const failed = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'failed', attemptCount: 5 });
      const foreign = await db.seed.delivery({ tenantId: otherTenant, subscriptionId: otherSub, status: 'failed' });

      await expect(schedule.requeue(tenantId, [failed, foreign], 'manual retry')).resolves.toBe(1);
      const rows = await db.seed.deliveries([failed, foreign]);
      expect(rows.get(failed)).toEqual({ status: 'retrying', parked: true, due: true, reason: 'manual retry', attemptCount: 5 });
      expect(rows.get(foreign)!.status).toBe('failed');

      const seen: DueRetry[][] = [];
      await schedule.releaseDueRetries(10, enqueueAll(seen));
      expect(seen.flat().map((d) => [d.deliveryId, d.attempt])).toEqual([[failed, 6]]);
    });
  });

  describe('cancelling waiting retries when a subscription is disabled', () => {
    it('cancels pending and retrying deliveries, parked or not, and leaves settled ones and other subscriptions alone', async () => {
      const subscriptions = new SubscriptionRepository(db.dataSource.getRepository(SubscriptionEntity));
      const sub = await db.seed.subscription(tenantId);
      const other = await db.seed.subscription(tenantId);
      const ids = {
        parkedRetry: await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', parked: true, dueInMs: 60_000 }),
        retrying: await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying' }),
        held: await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'pending', parked: true, dueInMs: null }),
        delivered: await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'delivered' }),
        failed: await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'failed' }),
        otherSubscription: await db.seed.delivery({ tenantId, subscriptionId: other, status: 'retrying', parked: true, dueInMs: -1_000 }),
      };

      const disabled = await subscriptions.disable(tenantId, sub, 'by the admin');
      expect(disabled?.state).toBe('disabled');

      const rows = await db.seed.deliveries(Object.values(ids));
      const cancelled = { status: 'cancelled', parked: false, due: null, reason: 'the subscription was disabled', attemptCount: 0 };
      expect(rows.get(ids.parkedRetry)).toEqual(cancelled);
      expect(rows.get(ids.retrying)).toEqual(cancelled);
      expect(rows.get(ids.held)).toEqual(cancelled);
      expect(rows.get(ids.delivered)!.status).toBe('delivered');
      expect(rows.get(ids.failed)!.status).toBe('failed');
      expect(rows.get(ids.otherSubscription)).toMatchObject({ status: 'retrying', parked: true });
    });

    it("changes nothing when the subscription is not the tenant's", async () => {
      const subscriptions = new SubscriptionRepository(db.dataSource.getRepository(SubscriptionEntity));
      const otherTenant = await db.seed.tenant();
      const sub = await db.seed.subscription(otherTenant);
      const id = await db.seed.delivery({ tenantId: otherTenant, subscriptionId: sub, status: 'retrying' });
      await expect(subscriptions.disable(tenantId, sub, 'by the admin')).resolves.toBeNull();
      expect((await db.seed.deliveries([id])).get(id)!.status).toBe('retrying');
    });
  });
});
