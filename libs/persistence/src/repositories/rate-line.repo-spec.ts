import { randomUUID } from 'node:crypto';
import { createRepositoryDatabase, RepositoryDatabase } from '../../test/repository-database';
import { DeliveryEntity } from '../entities/delivery.entity';
import { EventEntity } from '../entities/event.entity';
import { SnapshotEntity } from '../entities/snapshot.entity';
import { EventLogRepository } from './event-log.repository';
import { FanOutRepository, NewDeliveryRow } from './fan-out.repository';
import { RATE_WAITING_REASON, RateBudgetState, RateLineRepository } from './rate-line.repository';
import { cancelWaitingRetries, RetryScheduleRepository } from './retry-schedule.repository';

/** The rate lines: created by the fan-out in event order, leased from the head under the budget's lock, joined by due retries. */
describe('RateLineRepository', () => {
  let db: RepositoryDatabase;
  let fanOut: FanOutRepository;
  let lines: RateLineRepository;
  let schedule: RetryScheduleRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createRepositoryDatabase();
    const log = new EventLogRepository(db.dataSource.getRepository(EventEntity), db.dataSource.getRepository(SnapshotEntity));
    fanOut = new FanOutRepository(db.dataSource.getRepository(DeliveryEntity), log);
    lines = new RateLineRepository(db.dataSource);
    schedule = new RetryScheduleRepository(db.dataSource.getRepository(DeliveryEntity));
    tenantId = await db.seed.tenant();
  }, 30_000);
  afterAll(() => db?.drop(), 30_000);

  async function limitedSubscription(perSecond = 10, burst = 10): Promise<string> {
    const id = await db.seed.subscription(tenantId);
    await db.dataSource.query(`UPDATE subscriptions SET rate_per_second = $2, rate_burst = $3 WHERE id = $1`, [id, perSecond, burst]);
    return id;
  }
  /** One delivery each for `events`, in that order, created in one fan-out as the dispatcher does for a limited subscription. */
  async function fanOutTo(subscriptionId: string, events: string[]) {
    const rows: NewDeliveryRow[] = events.map((eventId) => ({
      id: randomUUID(),
      tenantId,
      subscriptionId,
      eventId,
      eventType: 'ticket.updated',
      rateLimited: true,
    }));
    return db.dataSource.transaction((m) => fanOut.upsertMany(m, rows));
  }
  const event = (modelId = randomUUID(), version = 1) =>
    db.seed.event(tenantId, { modelId, version, type: 'ticket.updated', envelope: { id: `e-${modelId}-${version}`, model: { id: modelId } } });
  /** A lease that takes up to `count` and moves the budget to `next` (remembering what it was shown). */
  const take = (subscriptionId: string, count: number, next: number | null = null) => {
    const seen: RateBudgetState[] = [];
    const lease = lines.lease(subscriptionId, 60_000, (budget) => {
      seen.push(budget);
      return { count, commit: () => next };
    });
    return { lease, seen };
  };
  const ids = async (subscriptionId: string, count: number) => {
    const { lease } = take(subscriptionId, count);
    const got = await lease;
    if (got.kind !== 'leased') throw new Error(`not leased: ${got.kind}`);
    return got.deliveries.map((d) => d.id);
  };

  it("the fan-out creates a limited subscription's deliveries in its line, in event order; one held behind its resource gets its place too", async () => {
    const sub = await limitedSubscription();
    const model = randomUUID();
    const events = [await event(), await event(model, 1), await event(), await event(model, 2), await event()];
    const created = await fanOutTo(sub, events);
    const byEvent = new Map(created.map((d) => [d.eventId, d]));
    expect(events.map((e) => [byEvent.get(e)!.parked, byEvent.get(e)!.rateWaiting, byEvent.get(e)!.held])).toEqual([
      [true, true, false],
      [true, true, false],
      [true, true, false],
      [true, false, true], // version 2 waits for version 1: it joins the line once released
      [true, true, false],
    ]);
    const rows: Array<{ event_id: string; rate_waiting: boolean; reason: string; next_attempt_at: Date | null }> = await db.dataSource.query(
      `SELECT event_id, rate_waiting, reason, next_attempt_at FROM deliveries WHERE subscription_id = $1 ORDER BY rate_seq`,
      [sub],
    );
    expect(rows.map((r) => r.event_id)).toEqual(events);
    expect(rows.filter((r) => r.rate_waiting).every((r) => r.reason === RATE_WAITING_REASON && r.next_attempt_at === null)).toBe(true);
    expect(await lines.waitingLines(100)).toContain(sub);
  });

  it('a lease takes the head of the line, oldest first, parks what it took, reads the events and stores the budget the plan commits', async () => {
    const sub = await limitedSubscription(10, 10);
    const events = [await event(), await event(), await event(), await event()];
    const created = await fanOutTo(sub, events);
    const idOf = new Map(created.map((d) => [d.eventId, d.id]));

    const first = take(sub, 3, 1_000_000);
    const leased = await first.lease;
    if (leased.kind !== 'leased') throw new Error(leased.kind);
    expect(leased.deliveries.map((d) => d.id)).toEqual(events.slice(0, 3).map((e) => idOf.get(e)));
    expect(leased.asked).toBe(3);
    expect(leased.deliveries[0]).toMatchObject({ status: 'pending', attemptCount: 0, resourceVersion: 1, changeStatus: 'CREATION', schemaVersion: 1 });
    expect(leased.deliveries[0].envelope).toMatchObject({ id: expect.stringMatching(/^e-/) });
    // A fresh budget starts now (a quiet subscription), on PostgreSQL's clock.
    expect(first.seen[0].limit).toEqual({ perSecond: 10, burst: 10 });
    expect(Math.abs(first.seen[0].nextSlotAtMs - first.seen[0].nowMs)).toBeLessThan(5_000);

    const [taken] = await db.dataSource.query(
      `SELECT bool_and(parked) AS parked, bool_or(rate_waiting) AS waiting, min(next_attempt_at) > now() + interval '59 seconds' AS held
         FROM deliveries WHERE id = ANY($1)`,
      [leased.deliveries.map((d) => d.id)],
    );
    expect(taken).toEqual({ parked: true, waiting: false, held: true });

    const second = take(sub, 5);
    const rest = await second.lease;
    if (rest.kind !== 'leased') throw new Error(rest.kind);
    expect(second.seen[0].nextSlotAtMs).toBe(1_000_000);
    // Fewer than asked: the line is empty.
    expect([rest.deliveries.map((d) => d.id), rest.asked]).toEqual([[idOf.get(events[3])], 5]);
    expect(await ids(sub, 5)).toEqual([]);
    expect(await lines.waitingLines(100)).not.toContain(sub);
  });

  it('a due retry joins the line in the place it was given, before newer deliveries; a parked one or an attempt already made does not', async () => {
    const sub = await limitedSubscription();
    const events = [await event(), await event(), await event()];
    const created = await fanOutTo(sub, events);
    const idOf = new Map(created.map((d) => [d.eventId, d.id]));
    const [oldest] = await ids(sub, 1);
    // Its attempt failed: retrying, its job on the stream (not parked).
    await db.dataSource.query(`UPDATE deliveries SET status = 'retrying', attempt_count = 1, parked = false, next_attempt_at = now() WHERE id = $1`, [oldest]);

    expect(await lines.join([{ deliveryId: oldest, attempt: 1 }])).toEqual([]); // attempt 1 was made
    expect(await lines.join([{ deliveryId: oldest, attempt: 2 }])).toEqual([sub]);
    expect(await lines.join([{ deliveryId: oldest, attempt: 2 }])).toEqual([]); // already in line
    expect(await ids(sub, 10)).toEqual([oldest, idOf.get(events[1]), idOf.get(events[2])]);
    // Taken by a lease (parked until its hold ends): owned, so a copy of its job cannot put it in line again.
    expect(await lines.join([{ deliveryId: oldest, attempt: 2 }])).toEqual([]);
  });

  it('a delivery the scheduler owns again (manual retry) leaves the line; disabling the subscription empties it', async () => {
    const sub = await limitedSubscription();
    const created = await fanOutTo(sub, [await event(), await event()]);
    expect(await schedule.requeue(tenantId, [created[0].id], 'manual retry')).toBe(1);
    const [requeued] = await db.dataSource.query(`SELECT rate_waiting, parked FROM deliveries WHERE id = $1`, [created[0].id]);
    expect(requeued).toEqual({ rate_waiting: false, parked: true });
    await db.dataSource.transaction(async (m) => {
      await m.query(`UPDATE subscriptions SET state = 'disabled' WHERE id = $1`, [sub]);
      await cancelWaitingRetries(m, [sub]);
    });
    const [left] = await db.dataSource.query(`SELECT count(*)::int AS n FROM deliveries WHERE subscription_id = $1 AND rate_waiting`, [sub]);
    expect(left.n).toBe(0);
    expect(await lines.waitingLines(100)).not.toContain(sub);
    expect((await take(sub, 5).lease).kind).toBe('inactive');
  });

  it('another pod leasing the same budget is skipped, not waited for; an unknown subscription is inactive', async () => {
    const sub = await limitedSubscription();
    await fanOutTo(sub, [await event()]);
    await ids(sub, 0); // creates the budget row
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(`SELECT 1 FROM subscription_rate_budgets WHERE subscription_id = $1 FOR UPDATE`, [sub]);
      expect((await take(sub, 1).lease).kind).toBe('contended');
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    expect(await ids(sub, 1)).toHaveLength(1);
    expect((await take(randomUUID(), 1).lease).kind).toBe('inactive');
  });

  it('a subscription whose limit was removed still has its budget read, with no limit: what waits goes at once', async () => {
    const sub = await limitedSubscription();
    await fanOutTo(sub, [await event(), await event()]);
    await db.dataSource.query(`UPDATE subscriptions SET rate_per_second = NULL, rate_burst = NULL WHERE id = $1`, [sub]);
    const { lease, seen } = take(sub, 500);
    expect((await lease).kind).toBe('leased');
    expect(seen[0].limit).toBeNull();
  });
});
