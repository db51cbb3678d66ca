import { randomUUID } from 'node:crypto';
import { createRepositoryDatabase, RepositoryDatabase } from '../../test/repository-database';
import { DeliveryEntity } from '../entities/delivery.entity';
import { AttemptRecord, DeliveryOutcomeRepository } from './delivery-outcome.repository';

describe('DeliveryOutcomeRepository.recordAttempts', () => {
  let db: RepositoryDatabase;
  let outcomes: DeliveryOutcomeRepository;
  let tenantId: string;

  beforeAll(async () => {
    db = await createRepositoryDatabase();
    outcomes = new DeliveryOutcomeRepository(db.dataSource.getRepository(DeliveryEntity));
    tenantId = await db.seed.tenant();
  }, 30_000);
  afterAll(() => db?.drop(), 30_000);

  const MINUTE = 60_000;

  function attempt(deliveryId: string, subscriptionId: string, r: Partial<AttemptRecord> = {}): AttemptRecord {
    const failed = r.outcome === 'failure';
    return {
      id: randomUUID(),
      deliveryId,
      subscriptionId,
      attempt: 1,
      outcome: 'success',
      startedAt: new Date(),
      durationMs: 12,
      requestUrl: 'https://receiver.example/hook',
      requestHeaders: { 'content-type': 'application/json' },
      responseStatus: failed ? 500 : 200,
      responseHeaders: {},
      responseBody: failed ? 'boom' : 'ok',
      error: failed ? 'HTTP 500' : null,
      status: failed ? 'retrying' : 'delivered',
      reason: null,
      nextAttemptAt: null,
      parked: false,
      health: failed ? 'failure' : 'success',
      ...r,
    };
  }
  const failure = (deliveryId: string, subscriptionId: string, r: Partial<AttemptRecord> = {}): AttemptRecord =>
    attempt(deliveryId, subscriptionId, { outcome: 'failure', ...r });

  async function subscriptionRow(
    id: string,
  ): Promise<{ state: string; consecutive_failures: number; failing_since: Date | null; state_reason: string | null }> {
    const [row] = await db.dataSource.query(`SELECT state, consecutive_failures, failing_since, state_reason FROM subscriptions WHERE id = $1`, [id]);
    return row;
  }
  async function attemptsOf(ids: string[]): Promise<Array<{ delivery_id: string; attempt: number; outcome: string }>> {
    return db.dataSource.query(`SELECT delivery_id, attempt, outcome FROM delivery_attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt`, [ids]);
  }

  it("follows a delivery's latest attempt: of two in one batch the later wins, and an earlier one recorded late changes nothing", async () => {
    const sub = await db.seed.subscription(tenantId);
    // Attempt 1's record was held up (PostgreSQL restarting) and is batched with the retry that succeeded.
    const batched = await db.seed.delivery({ tenantId, subscriptionId: sub });
    await outcomes.recordAttempts([failure(batched, sub, { nextAttemptAt: new Date(Date.now() + MINUTE) }), attempt(batched, sub, { attempt: 2 })], 10, 0);
    // Attempt 2 (a failure, retrying later) is recorded before attempt 1's record arrives.
    const late = await db.seed.delivery({ tenantId, subscriptionId: sub });
    const second = new Date(Date.now() + 10 * MINUTE);
    await outcomes.recordAttempts([failure(late, sub, { attempt: 2, nextAttemptAt: second, reason: 'attempt 2' })], 10, 0);
    await outcomes.recordAttempts([failure(late, sub, { attempt: 1, nextAttemptAt: new Date(Date.now() + MINUTE), reason: 'attempt 1' })], 10, 0);

    const rows: Array<{ id: string; status: string; attempt_count: number; reason: string | null; next_attempt_at: Date | null }> = await db.dataSource.query(
      `SELECT id, status, attempt_count, reason, next_attempt_at FROM deliveries WHERE id = ANY($1)`,
      [[batched, late]],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(batched)).toMatchObject({ status: 'delivered', attempt_count: 2 });
    expect(byId.get(late)).toMatchObject({ status: 'retrying', attempt_count: 2, reason: 'attempt 2', next_attempt_at: second });
    expect((await attemptsOf([batched, late])).map((a) => a.attempt)).toEqual(expect.arrayContaining([1, 2, 1, 2]));
  });

  it('writes a batch of successes in one go: attempts, delivered states and a reset failure count', async () => {
    const sub = await db.seed.subscription(tenantId, { consecutiveFailures: 4 });
    const a = await db.seed.delivery({ tenantId, subscriptionId: sub });
    const b = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', attemptCount: 1 });

    await expect(outcomes.recordAttempts([attempt(a, sub), attempt(b, sub, { attempt: 2 })], 3, MINUTE)).resolves.toEqual([]);

    const rows = await db.seed.deliveries([a, b]);
    expect(rows.get(a)).toMatchObject({ status: 'delivered', attemptCount: 1, parked: false });
    expect(rows.get(b)).toMatchObject({ status: 'delivered', attemptCount: 2 });
    const [delivered] = await db.dataSource.query(`SELECT count(*)::int AS n FROM deliveries WHERE id = ANY($1) AND delivered_at IS NOT NULL`, [[a, b]]);
    expect(delivered.n).toBe(2);
    expect(await attemptsOf([a, b])).toHaveLength(2);
    expect((await subscriptionRow(sub)).consecutive_failures).toBe(0);
  });

  it('parks a retry with its time, and never reopens a delivered or cancelled delivery with a late attempt', async () => {
    const sub = await db.seed.subscription(tenantId);
    const parked = await db.seed.delivery({ tenantId, subscriptionId: sub });
    const delivered = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'delivered', attemptCount: 2 });
    const cancelled = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'cancelled', attemptCount: 1 });
    const later = new Date(Date.now() + 10 * MINUTE);

    await outcomes.recordAttempts(
      [
        failure(parked, sub, { parked: true, nextAttemptAt: later, reason: 'HTTP 500', health: null }),
        failure(delivered, sub, { attempt: 1, nextAttemptAt: later, parked: true, health: null }),
        failure(cancelled, sub, { attempt: 2, nextAttemptAt: later, parked: true, health: null }),
      ],
      3,
      MINUTE,
    );

    const rows = await db.seed.deliveries([parked, delivered, cancelled]);
    expect(rows.get(parked)).toEqual({ status: 'retrying', parked: true, due: false, reason: 'HTTP 500', attemptCount: 1 });
    expect(rows.get(delivered)).toMatchObject({ status: 'delivered', parked: false, due: null, attemptCount: 2 });
    expect(rows.get(cancelled)).toMatchObject({ status: 'cancelled', parked: false, due: null, attemptCount: 2 });
    // The attempts themselves are history and are kept.
    expect(await attemptsOf([parked, delivered, cancelled])).toHaveLength(3);
  });

  it('cancels instead of retrying when the subscription was disabled meanwhile', async () => {
    const sub = await db.seed.subscription(tenantId, { state: 'disabled' });
    const id = await db.seed.delivery({ tenantId, subscriptionId: sub });
    await outcomes.recordAttempts([failure(id, sub, { health: null, nextAttemptAt: new Date(Date.now() + MINUTE) })], 3, MINUTE);
    expect((await db.seed.deliveries([id])).get(id)!.status).toBe('cancelled');
  });

  it.each([
    ['a batch of successes', false],
    ['a batch with failures', true],
  ])('%s leaves out attempts whose delivery no longer exists and writes the others', async (_, withFailure) => {
    const sub = await db.seed.subscription(tenantId);
    const kept = await db.seed.delivery({ tenantId, subscriptionId: sub });
    const gone = randomUUID();
    const make = withFailure ? failure : attempt;
    await expect(outcomes.recordAttempts([make(gone, sub), make(kept, sub)], 10, MINUTE)).resolves.toEqual([]);
    expect(await attemptsOf([gone, kept])).toEqual([{ delivery_id: kept, attempt: 1, outcome: withFailure ? 'failure' : 'success' }]);
  });

  it('counts failures in a row and records when the run began, without disabling before the minimum failing time', async () => {
    const sub = await db.seed.subscription(tenantId, { consecutiveFailures: 1 });
    const ids = [await db.seed.delivery({ tenantId, subscriptionId: sub }), await db.seed.delivery({ tenantId, subscriptionId: sub })];
    const began = new Date(Date.now() - 1_000);

    await expect(outcomes.recordAttempts([failure(ids[0], sub, { startedAt: began }), failure(ids[1], sub)], 3, MINUTE)).resolves.toEqual([]);

    const row = await subscriptionRow(sub);
    expect(row.state).toBe('active');
    expect(row.consecutive_failures).toBe(3);
    expect(row.failing_since?.getTime()).toBe(began.getTime());
  });

  it('restarts the count at the last success of the batch: only the failures after it count', async () => {
    const sub = await db.seed.subscription(tenantId, { consecutiveFailures: 7 });
    const d = await Promise.all([1, 2, 3, 4].map(() => db.seed.delivery({ tenantId, subscriptionId: sub })));
    const t0 = Date.now() - 10_000;
    await outcomes.recordAttempts(
      [
        failure(d[0], sub, { startedAt: new Date(t0) }),
        attempt(d[1], sub, { startedAt: new Date(t0 + 1_000) }),
        failure(d[2], sub, { startedAt: new Date(t0 + 3_000) }),
        failure(d[3], sub, { startedAt: new Date(t0 + 2_000) }),
      ],
      10,
      MINUTE,
    );
    const row = await subscriptionRow(sub);
    expect(row.consecutive_failures).toBe(2);
    expect(row.failing_since?.getTime()).toBe(t0 + 2_000);
  });

  it('leaves the count alone for attempts that do not count for health (blocked)', async () => {
    const sub = await db.seed.subscription(tenantId, { consecutiveFailures: 2 });
    const id = await db.seed.delivery({ tenantId, subscriptionId: sub });
    await outcomes.recordAttempts([failure(id, sub, { status: 'blocked', health: null })], 3, MINUTE);
    expect((await subscriptionRow(sub)).consecutive_failures).toBe(2);
    expect((await db.seed.deliveries([id])).get(id)!.status).toBe('blocked');
  });

  it('disables a subscription failing often and long enough, cancels its waiting retries and returns it', async () => {
    const sub = await db.seed.subscription(tenantId, { eventTypes: ['ticket.*'] });
    const healthy = await db.seed.subscription(tenantId);
    const failing = await Promise.all([1, 2, 3].map(() => db.seed.delivery({ tenantId, subscriptionId: sub })));
    const waiting = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'retrying', parked: true, dueInMs: MINUTE });
    const delivered = await db.seed.delivery({ tenantId, subscriptionId: sub, status: 'delivered' });
    const elsewhere = await db.seed.delivery({ tenantId, subscriptionId: healthy, status: 'retrying', parked: true, dueInMs: MINUTE });
    const began = new Date(Date.now() - 2 * MINUTE);

    const disabled = await outcomes.recordAttempts(
      failing.map((id, i) => failure(id, sub, { startedAt: new Date(began.getTime() + i), error: `HTTP 50${i}` })),
      3,
      MINUTE,
    );

    expect(disabled).toEqual([
      {
        id: sub,
        tenantId,
        url: 'https://receiver.example/hook',
        state: 'disabled',
        eventTypes: ['ticket.*'],
        consecutiveFailures: 3,
        failingSince: began,
        reason: `disabled after 3 consecutive failed attempts, failing since ${began.toISOString()}`,
        lastError: 'HTTP 502',
      },
    ]);
    expect((await subscriptionRow(sub)).state).toBe('disabled');
    const rows = await db.seed.deliveries([...failing, waiting, delivered, elsewhere]);
    // The failed attempts' own deliveries would retry: they are cancelled with the waiting one.
    for (const id of [...failing, waiting]) expect(rows.get(id)).toMatchObject({ status: 'cancelled', parked: false, reason: 'the subscription was disabled' });
    expect(rows.get(delivered)!.status).toBe('delivered');
    expect(rows.get(elsewhere)).toMatchObject({ status: 'retrying', parked: true });
  });

  it("uses the subscription's own minimum failing time when it has one", async () => {
    const sub = await db.seed.subscription(tenantId);
    await db.dataSource.query(`UPDATE subscriptions SET disable_after_failing_ms = 1000 WHERE id = $1`, [sub]);
    const id = await db.seed.delivery({ tenantId, subscriptionId: sub });
    const disabled = await outcomes.recordAttempts([failure(id, sub, { startedAt: new Date(Date.now() - 5_000) })], 1, 60 * MINUTE);
    expect(disabled.map((d) => d.id)).toEqual([sub]);
  });

  it('records batches over the same subscriptions from several dispatchers at once without a deadlock (soak seed 20261130 logged them)', async () => {
    // Among thousands of endpoints, the few a batch names are found by index, in the batch's order.
    await db.dataSource.query(
      `INSERT INTO subscriptions (tenant_id, url, event_types, retry_policy_ms, state, ordering)
       SELECT $1, 'https://other.example/hook', '{*}', '{1000}', 'active', 'default' FROM generate_series(1, 3000)`,
      [tenantId],
    );
    await db.dataSource.query(`ANALYZE subscriptions`);
    const [a, b, c, d, healthyOne] = await Promise.all(Array.from({ length: 5 }, () => db.seed.subscription(tenantId)));
    const subs = [a, b, c, d];
    // Each dispatcher's batch names the failing subscriptions in its own order.
    const orders = [subs, [d, c, b, a], [b, d, a, c], [c, a, d, b], [d, b, c, a], [a, c, b, d]];
    const batch = (order: string[], make: typeof attempt) =>
      Promise.all(order.map(async (sub) => make(await db.seed.delivery({ tenantId, subscriptionId: sub }), sub)));
    const rounds = 20;
    for (let round = 0; round < rounds; round++) {
      // Each also carries a success of a subscription that is not failing: it is neither locked nor written.
      const batches = await Promise.all(orders.map(async (order) => [...(await batch(order, failure)), ...(await batch([healthyOne], attempt))]));
      await Promise.all(batches.map((records) => outcomes.recordAttempts(records, 1_000_000, 0)));
    }
    const counts = async (): Promise<number[]> =>
      (await db.dataSource.query(`SELECT consecutive_failures FROM subscriptions WHERE id = ANY($1)`, [subs])).map(
        (r: { consecutive_failures: number }) => r.consecutive_failures,
      );
    expect(await counts()).toEqual(subs.map(() => rounds * orders.length));
    expect((await subscriptionRow(healthyOne)).consecutive_failures).toBe(0);
    // Batches without a failure reset the same counts, each subscription in a statement of its own.
    for (let round = 0; round < rounds / 2; round++) {
      await db.dataSource.query(`UPDATE subscriptions SET consecutive_failures = 3, failing_since = now() WHERE id = ANY($1)`, [subs]);
      const successes = await Promise.all(orders.map((order) => batch(order, attempt)));
      await Promise.all(successes.map((records) => outcomes.recordAttempts(records, 1_000_000, 0)));
      expect(await counts()).toEqual(subs.map(() => 0));
    }
  }, 60_000);
});
