import { ConsumerLoop, ConsumerRunOptions, InboundMessage, PulledMessage, PulledMessages } from './consumer-runner';

/** A pulled message that records how it was settled. */
class FakeMessage implements PulledMessage {
  readonly subject: string;
  readonly data = new Uint8Array();
  readonly info: { deliveryCount: number; streamSequence: number };
  readonly headers = { get: (name: string): string => (name === 'Nats-Msg-Id' ? `id-${this.info.streamSequence}` : '') };
  readonly settlements: string[] = [];
  workingCalls = 0;

  constructor(seq: number) {
    this.subject = `events.${seq}`;
    this.info = { deliveryCount: 1, streamSequence: seq };
  }
  ack(): void {
    this.settlements.push('ack');
  }
  nak(millis?: number): void {
    this.settlements.push(millis === undefined ? 'nak' : `nak ${millis}`);
  }
  term(): void {
    this.settlements.push('term');
  }
  working(): void {
    this.workingCalls++;
  }
}

/**
 * The client's `consume()` iterator as far as the runner uses it, with the
 * internals `drainConsume` relies on: `_push` runs a function when the
 * iterator reaches it, `sub.drain()` is the unsubscribe round trip.
 */
class FakeMessages implements PulledMessages {
  refilling = true;
  stopped = false;
  /** Messages the iterator has handed to the runner. */
  taken = 0;
  /** Runs during `sub.drain()`: what the server sent before it saw the unsubscribe. */
  onDrain: () => void = () => undefined;
  readonly sub = { closed: false, isClosed: () => this.sub.closed, drain: async () => this.drainSub() };
  private readonly items: Array<FakeMessage | (() => void)> = [];
  private wake: (() => void) | undefined;

  deliver(...msgs: FakeMessage[]): void {
    this.items.push(...msgs);
    this.signal();
  }
  _push(fn: () => void): void {
    this.items.push(fn);
    this.signal();
  }
  stop(): void {
    this.stopped = true;
    this.signal();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<PulledMessage> {
    for (;;) {
      for (let item = this.items.shift(); item; item = this.items.shift()) {
        if (typeof item === 'function') {
          item();
          continue;
        }
        this.taken++;
        yield item;
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
  private async drainSub(): Promise<void> {
    this.onDrain();
    this.sub.closed = true;
  }
  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

const messages = (from: number, count: number): FakeMessage[] => Array.from({ length: count }, (_, i) => new FakeMessage(from + i));
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const seqs = (batch: InboundMessage[]): number[] => batch.map((m) => m.streamSequence);
/** Records what the loop logs as errors, instead of printing it. */
class ErrorLog {
  readonly entries: unknown[][] = [];
  error(...args: unknown[]): void {
    this.entries.push(args);
  }
}

/** A loop over fake messages whose batches are recorded and left unsettled unless `handleBatch` is given. */
function loop(overrides: Partial<ConsumerRunOptions> = {}) {
  const source = new FakeMessages();
  const batches: InboundMessage[][] = [];
  const log = new ErrorLog();
  const handle = overrides.handleBatch ?? (async () => undefined);
  const options: ConsumerRunOptions = {
    stream: 'events',
    durable: 'dispatcher',
    maxInFlight: 100,
    maxBatch: 10,
    ...overrides,
    handleBatch: (batch) => {
      batches.push(batch);
      return handle(batch);
    },
  };
  const consumer = new ConsumerLoop(source, options, log).start();
  return { source, batches, consumer, log };
}

async function until(condition: () => boolean, timeoutMs = 1_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await sleep(1);
  }
}

describe('ConsumerLoop', () => {
  it('passes the messages that arrived in one turn to one handleBatch call, and exposes their fields', async () => {
    const { source, batches, consumer } = loop();
    source.deliver(...messages(1, 3));
    await until(() => batches.length > 0);
    await tick();
    expect(batches.map(seqs)).toEqual([[1, 2, 3]]);
    const [first] = batches[0];
    expect(first).toMatchObject({ subject: 'events.1', deliveryCount: 1, streamSequence: 1, settled: false });
    expect(first.header('Nats-Msg-Id')).toBe('id-1');
    expect(first.header('Missing')).toBeUndefined();
    expect(consumer.inFlight).toBe(3);
    await consumer.stop(0);
  });

  it('cuts batches at maxBatch', async () => {
    const { source, batches, consumer } = loop({ maxBatch: 2, maxConcurrentBatches: 5 });
    source.deliver(...messages(1, 5));
    await until(() => batches.flat().length === 5);
    expect(batches.map(seqs)).toEqual([[1, 2], [3, 4], [5]]);
    await consumer.stop(0);
  });

  it('sends the acks of one turn together, after the turn, and settles a message only once', async () => {
    const { source, batches, consumer } = loop();
    const sent = messages(1, 2);
    source.deliver(...sent);
    await until(() => batches.length > 0);
    const [a, b] = batches[0];
    a.ack();
    b.ack();
    expect(a.settled).toBe(true);
    expect(sent[0].settlements).toEqual([]);
    await tick();
    expect(sent.map((m) => m.settlements)).toEqual([['ack'], ['ack']]);
    a.nak();
    b.term();
    a.working();
    await tick();
    expect(sent.map((m) => m.settlements)).toEqual([['ack'], ['ack']]);
    expect(sent[0].workingCalls).toBe(0);
    expect(consumer.inFlight).toBe(0);
    await consumer.stop(0);
  });

  it('passes the nak delay through, and naks at once without one', async () => {
    const { source, batches, consumer } = loop();
    const sent = messages(1, 3);
    source.deliver(...sent);
    await until(() => batches.length > 0);
    batches[0][0].nak(5_000);
    batches[0][1].nak();
    batches[0][2].term();
    expect(sent.map((m) => m.settlements)).toEqual([['nak 5000'], ['nak'], ['term']]);
    await consumer.stop(0);
  });

  it('holds at most maxInFlight unsettled messages, and takes the next when one is settled', async () => {
    const { source, batches, consumer } = loop({ maxInFlight: 2, maxBatch: 10 });
    source.deliver(...messages(1, 5));
    await until(() => batches.flat().length === 2);
    await sleep(50);
    expect(source.taken).toBe(2);
    expect(consumer.inFlight).toBe(2);
    batches[0][0].ack();
    await until(() => batches.flat().length === 3);
    expect(source.taken).toBe(3);
    expect(consumer.inFlight).toBe(2);
    await consumer.stop(0);
  });

  it('runs at most maxConcurrentBatches handleBatch calls; what arrives meanwhile forms the next batch', async () => {
    const finish: Array<() => void> = [];
    const { source, batches, consumer } = loop({
      maxConcurrentBatches: 2,
      handleBatch: () => new Promise<void>((resolve) => finish.push(resolve)),
    });
    source.deliver(new FakeMessage(1));
    await until(() => batches.length === 1);
    source.deliver(new FakeMessage(2));
    await until(() => batches.length === 2);
    source.deliver(...messages(3, 3));
    await sleep(30);
    expect(source.taken).toBe(5);
    expect(batches.map(seqs)).toEqual([[1], [2]]);
    finish[0]();
    await until(() => batches.length === 3);
    expect(batches.map(seqs)).toEqual([[1], [2], [3, 4, 5]]);
    await consumer.stop(0);
  });

  it('takes nothing more while backlogged, counting the messages taken but not through handleBatch, and resumes when the backlog clears', async () => {
    const finish: Array<() => void> = [];
    const seen: number[] = [];
    const { source, batches, consumer } = loop({
      maxConcurrentBatches: 1,
      backlogged: (waiting) => {
        seen.push(waiting);
        return waiting >= 3;
      },
      handleBatch: () => new Promise<void>((resolve) => finish.push(resolve)),
    });
    source.deliver(...messages(1, 5));
    await until(() => batches.length === 1);
    await sleep(60);
    expect(source.taken).toBe(3);
    expect(batches.map(seqs)).toEqual([[1, 2, 3]]);
    // Checked again while paused: none queued, three in a handleBatch call that has not returned.
    expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.slice(3).every((w) => w === 3)).toBe(true);
    finish[0]();
    await until(() => source.taken === 5);
    await consumer.stop(0);
  });

  it('naks the batch after failureDelayMs when handleBatch throws, and goes on with the next one', async () => {
    let calls = 0;
    const { source, batches, consumer, log } = loop({
      failureDelayMs: 250,
      handleBatch: async (batch) => {
        if (++calls === 1) throw new Error('database down');
        batch.forEach((m) => m.ack());
      },
    });
    const sent = messages(1, 2);
    source.deliver(...sent);
    await until(() => sent.every((m) => m.settlements.length > 0));
    expect(sent.map((m) => m.settlements)).toEqual([['nak 250'], ['nak 250']]);
    expect(log.entries).toEqual([[{ err: new Error('database down'), durable: 'dispatcher' }, 'batch failed; redelivering']]);
    const later = new FakeMessage(3);
    source.deliver(later);
    await until(() => later.settlements.length > 0);
    await tick();
    expect(later.settlements).toEqual(['ack']);
    expect(batches).toHaveLength(2);
    await consumer.stop(0);
  });

  it('redelivers a failed batch after one second by default', async () => {
    const { source, consumer } = loop({ handleBatch: async () => Promise.reject(new Error('boom')) });
    const sent = new FakeMessage(1);
    source.deliver(sent);
    await until(() => sent.settlements.length > 0);
    expect(sent.settlements).toEqual(['nak 1000']);
    await consumer.stop(0);
  });

  it('tells the server every workingEveryMs that unsettled messages are in work, for no longer than workingForMs', async () => {
    const { source, batches, consumer } = loop({ workingEveryMs: 10, workingForMs: 80 });
    const [kept, settled] = messages(1, 2);
    source.deliver(kept, settled);
    await until(() => batches.length > 0);
    batches[0][1].ack();
    await sleep(50);
    expect(kept.workingCalls).toBeGreaterThanOrEqual(2);
    expect(settled.workingCalls).toBe(0);
    await sleep(80);
    const after = kept.workingCalls;
    await sleep(40);
    expect(kept.workingCalls).toBe(after);
    await consumer.stop(0);
  });

  describe('stop', () => {
    it('drains the inbox before naking (without delay) every message pulled but not started, and waits for those in work', async () => {
      const { source, batches, consumer } = loop({ maxBatch: 1, maxConcurrentBatches: 1, handleBatch: () => new Promise<void>(() => undefined) });
      const [inWork, queued] = messages(1, 2);
      const inFlightFromServer = new FakeMessage(3);
      let nakedBeforeDrain = false;
      source.onDrain = () => {
        nakedBeforeDrain = queued.settlements.length > 0;
        source.deliver(inFlightFromServer);
      };
      source.deliver(inWork, queued);
      await until(() => batches.length === 1 && source.taken === 2);

      let stopped = false;
      const stopping = consumer.stop(10_000).then(() => (stopped = true));
      await until(() => queued.settlements.length > 0 && inFlightFromServer.settlements.length > 0);
      expect(source.refilling).toBe(false);
      expect(source.stopped).toBe(true);
      expect(nakedBeforeDrain).toBe(false);
      expect(queued.settlements).toEqual(['nak']);
      expect(inFlightFromServer.settlements).toEqual(['nak']);
      expect(batches).toHaveLength(1);

      await sleep(20);
      expect(stopped).toBe(false);
      batches[0][0].ack();
      await stopping;
      expect(inWork.settlements).toEqual(['ack']);
      expect(consumer.inFlight).toBe(0);
    });

    it('returns after graceMs with messages still in work', async () => {
      const { source, batches, consumer } = loop();
      source.deliver(new FakeMessage(1));
      await until(() => batches.length === 1);
      const started = Date.now();
      await consumer.stop(50);
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
      expect(consumer.inFlight).toBe(1);
    });

    it('falls back to stopping the iterator when the client lacks the drain internals', async () => {
      const source = new FakeMessages();
      const plain: PulledMessages = { stop: () => source.stop(), [Symbol.asyncIterator]: () => source[Symbol.asyncIterator]() };
      const options: ConsumerRunOptions = { stream: 's', durable: 'd', maxInFlight: 10, maxBatch: 10, handleBatch: async () => undefined };
      const consumer = new ConsumerLoop(plain, options, new ErrorLog()).start();
      await consumer.stop(0);
      expect(source.stopped).toBe(true);
      expect(source.refilling).toBe(true);
    });
  });
});
