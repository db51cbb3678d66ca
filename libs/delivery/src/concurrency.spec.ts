import { EndpointLimiter, Semaphore } from './concurrency';

describe('Semaphore', () => {
  it('hands slots to waiters first come, first served', async () => {
    const s = new Semaphore(2);
    await s.acquire();
    await s.acquire();
    const order: number[] = [];
    const waiting = [1, 2, 3].map((i) => s.acquire().then(() => order.push(i)));
    expect(s.available).toBe(false);
    expect(s.waiting).toBe(3);
    s.release();
    s.release();
    s.release();
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
    expect(s.waiting).toBe(0);
  });

  it('keeps its count through thousands of waiters', async () => {
    const s = new Semaphore(1);
    await s.acquire();
    let done = 0;
    const all = Array.from({ length: 5_000 }, () => s.acquire().then(() => (done++, s.release())));
    s.release();
    await Promise.all(all);
    expect(done).toBe(5_000);
    expect(s.tryAcquire()).toBe(true);
  });
});

describe('EndpointLimiter.expectedWaitMs', () => {
  afterEach(() => jest.useRealTimers());

  /** A limiter whose `limit` slots are all taken, each by a request on the wire. */
  async function saturated(limit: number): Promise<EndpointLimiter> {
    const l = new EndpointLimiter(limit);
    for (let i = 0; i < limit; i++) {
      await l.acquire();
      l.started();
    }
    return l;
  }

  it('is 0 while a slot is free', () => {
    expect(new EndpointLimiter(4).expectedWaitMs()).toBe(0);
  });

  it('grows with the line and the average request time of a working endpoint', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const l = await saturated(4);
    l.finished(100); // average 100 ms
    l.started();
    expect(l.expectedWaitMs()).toBe(25); // one place in line, 4 slots of 100 ms
    void l.acquire();
    void l.acquire();
    void l.acquire();
    expect(l.expectedWaitMs()).toBe(100);
  });

  it('counts the silence of a hanging endpoint', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const l = await saturated(4);
    expect(l.expectedWaitMs()).toBe(0); // no history, just started
    jest.advanceTimersByTime(2_000);
    expect(l.silenceMs()).toBe(2_000);
    expect(l.expectedWaitMs()).toBe(500);
  });

  it('is 0 while slot holders wait for the pod rather than for the endpoint', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const l = new EndpointLimiter(2);
    await l.acquire();
    await l.acquire();
    l.started(); // the other holder waits for a global slot
    jest.advanceTimersByTime(5_000);
    expect(l.expectedWaitMs()).toBe(0);
  });
});
