import type { AttemptRecord, DeliveryRepository, DisabledSubscription } from '@hookhub/persistence';
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
  } as unknown as DeliveryRepository;
  return { repo, batches, finish };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('AttemptLog', () => {
  it('resolves a write only once its batch is committed', async () => {
    const { repo, batches, finish } = slowRepo();
    const log = new AttemptLog(repo, { maxBatch: 100, lingerMs: 1, retryForMs: 1_000, disableAfter: 10 }, async () => undefined);
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
    const log = new AttemptLog(repo, { maxBatch: 100, lingerMs: 1, retryForMs: 1_000, disableAfter: 10 }, async () => undefined);
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
    const log = new AttemptLog(repo, { maxBatch: 10, lingerMs: 1, retryForMs: 1_000, disableAfter: 10, maxConcurrent: 2 }, async () => undefined);
    const writes = [log.write(record(0))];
    await tick();
    for (let i = 1; i <= 10; i++) writes.push(log.write(record(i)));
    await tick();
    expect(batches.map((b) => b.length)).toEqual([1, 10]);
    finish.forEach((f) => f());
    await Promise.all(writes);
  });

  it('drains everything written before shutdown', async () => {
    const repo = { recordAttempts: async () => [] } as unknown as DeliveryRepository;
    const log = new AttemptLog(repo, { maxBatch: 7, lingerMs: 50, retryForMs: 1_000, disableAfter: 10 }, async () => undefined);
    let resolved = 0;
    for (let i = 0; i < 30; i++) void log.write(record(i)).then(() => resolved++);
    await log.drain();
    expect(resolved).toBe(30);
  });
});
