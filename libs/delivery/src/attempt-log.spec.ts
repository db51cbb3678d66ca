import type { AttemptRecord, DeliveryOutcomeRepository, DisabledSubscription } from '@hookhub/persistence';
import { Logger } from '@nestjs/common';
import { AttemptLog } from './attempt-log';

const record = (i: number): AttemptRecord => ({
  id: `a-${i}`,
  deliveryId: `d-${i}`,
  attempt: 1,
  outcome: 'success',
  startedAt: new Date(),
  durationMs: 1,
  requestUrl: 'https://example.com/hook',
  requestHeaders: {},
  responseStatus: 200,
  responseHeaders: {},
  responseBody: 'ok',
  error: null,
  status: 'delivered',
  reason: null,
  nextAttemptAt: null,
  parked: false,
  subscriptionId: 'sub-1',
  health: 'success',
});

/** A repository whose transactions finish when the test says so. */
function slowRepo() {
  const batches: AttemptRecord[][] = [];
  const finish: Array<() => void> = [];
  const repo = {
    recordAttempts: (records: AttemptRecord[]) =>
      new Promise<DisabledSubscription[]>((resolve) => {
        batches.push(records);
        finish.push(() => resolve([]));
      }),
  } as unknown as DeliveryOutcomeRepository;
  return { repo, batches, finish };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('AttemptLog', () => {
  it('resolves a write only once its batch is committed', async () => {
    const { repo, batches, finish } = slowRepo();
    const log = new AttemptLog(repo, { maxBatch: 100, lingerMs: 1, retryForMs: 1_000, disableAfter: 10, disableAfterFailingMs: 0 }, async () => undefined);
    let done = false;
    const w = log.write(record(1)).then(() => (done = true));
    await tick();
    expect(batches).toHaveLength(1);
    expect(done).toBe(false);
    finish[0]();
    await w;
    expect(done).toBe(true);
  });

  it('runs one lingering batch at a time; what finishes meanwhile forms the next, larger batch', async () => {
    const { repo, batches, finish } = slowRepo();
    const log = new AttemptLog(repo, { maxBatch: 100, lingerMs: 1, retryForMs: 1_000, disableAfter: 10, disableAfterFailingMs: 0 }, async () => undefined);
    const writes = [log.write(record(1))];
    await tick();
    for (let i = 2; i <= 30; i++) writes.push(log.write(record(i)));
    await tick();
    expect(batches.map((b) => b.length)).toEqual([1]);
    finish[0]();
    await tick();
    expect(batches.map((b) => b.length)).toEqual([1, 29]);
    finish[1]();
    await Promise.all(writes);
  });

  it('starts a second transaction for a full batch', async () => {
    const { repo, batches, finish } = slowRepo();
    const log = new AttemptLog(
      repo,
      { maxBatch: 10, lingerMs: 1, retryForMs: 1_000, disableAfter: 10, disableAfterFailingMs: 0, maxConcurrent: 2 },
      async () => undefined,
    );
    const writes = [log.write(record(0))];
    await tick();
    for (let i = 1; i <= 10; i++) writes.push(log.write(record(i)));
    await tick();
    expect(batches.map((b) => b.length)).toEqual([1, 10]);
    finish.forEach((f) => f());
    await Promise.all(writes);
  });

  describe('a row that cannot be written', () => {
    const options = { maxBatch: 100, lingerMs: 1, retryForMs: 60_000, disableAfter: 10, disableAfterFailingMs: 0 };
    let errors: jest.SpyInstance;
    beforeEach(() => {
      errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    });
    afterEach(() => jest.restoreAllMocks());
    const foreignKey = () =>
      Object.assign(new Error('insert or update on table "delivery_attempts" violates foreign key constraint "delivery_attempts_delivery_id_fkey"'), {
        code: '23503',
      });

    /** Refuses, like PostgreSQL, every batch that holds a record of a deleted delivery; commits the others. */
    function repoWithout(deleted: string) {
      const committed: string[] = [];
      let calls = 0;
      const repo = {
        recordAttempts: async (records: AttemptRecord[]) => {
          calls++;
          if (records.some((r) => r.deliveryId === deleted)) throw foreignKey();
          committed.push(...records.map((r) => r.deliveryId));
          return [];
        },
      } as unknown as DeliveryOutcomeRepository;
      return { repo, committed, calls: () => calls };
    }

    it('does not hold back or drop the other rows of its batch: they are committed at once, only its write fails', async () => {
      const { repo, committed, calls } = repoWithout('d-7');
      const log = new AttemptLog(repo, options, async () => undefined);
      const started = Date.now();
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => log.write(record(i))));
      // Well inside the first retry delay: the batch was split, not retried.
      expect(Date.now() - started).toBeLessThan(90);
      expect(outcomes.filter((o) => o.status === 'rejected').map((_, i) => i)).toHaveLength(1);
      expect(outcomes[7]).toMatchObject({ status: 'rejected', reason: { code: '23503' } });
      expect(committed.sort()).toEqual(
        Array.from({ length: 20 }, (_, i) => `d-${i}`)
          .filter((d) => d !== 'd-7')
          .sort(),
      );
      // Halving 20 rows down to the one at fault: 1 + 2 per level (20 → 10 → 5 → 3 → 2 → 1) at most.
      expect(calls()).toBeLessThanOrEqual(11);
      expect(errors).toHaveBeenCalledWith(expect.objectContaining({ code: '23503', deliveryId: 'd-7' }), 'an attempt record cannot be written');
    });

    it('still reports the subscriptions a split batch disabled', async () => {
      const disabledSub: DisabledSubscription = {
        id: 'sub-1',
        tenantId: 't',
        url: 'https://example.com/hook',
        state: 'disabled',
        eventTypes: ['*'],
        consecutiveFailures: 10,
        failingSince: new Date(),
        reason: 'disabled',
        lastError: 'HTTP 500',
      };
      const repo = {
        recordAttempts: async (records: AttemptRecord[]) => {
          if (records.some((r) => r.deliveryId === 'd-0')) throw foreignKey();
          return records.some((r) => r.deliveryId === 'd-3') ? [disabledSub] : [];
        },
      } as unknown as DeliveryOutcomeRepository;
      const notices: DisabledSubscription[] = [];
      const log = new AttemptLog(repo, options, async (d) => void notices.push(...d));
      await Promise.allSettled([0, 1, 2, 3].map((i) => log.write(record(i))));
      expect(notices).toEqual([disabledSub]);
    });

    it('a batch refused because the database is unavailable is retried whole, not split', async () => {
      const batches: number[] = [];
      const repo = {
        recordAttempts: async (records: AttemptRecord[]) => {
          batches.push(records.length);
          if (batches.length === 1) throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
          return [];
        },
      } as unknown as DeliveryOutcomeRepository;
      const log = new AttemptLog(repo, options, async () => undefined);
      await Promise.all([0, 1, 2, 3, 4].map((i) => log.write(record(i))));
      expect(batches).toEqual([5, 5]);
    });
  });

  it('drains everything written before shutdown', async () => {
    const repo = { recordAttempts: async () => [] } as unknown as DeliveryOutcomeRepository;
    const log = new AttemptLog(repo, { maxBatch: 7, lingerMs: 50, retryForMs: 1_000, disableAfter: 10, disableAfterFailingMs: 0 }, async () => undefined);
    let resolved = 0;
    for (let i = 0; i < 30; i++) void log.write(record(i)).then(() => resolved++);
    await log.drain();
    expect(resolved).toBe(30);
  });
});
