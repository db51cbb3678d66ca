import { Injectable, Logger, LoggerService } from '@nestjs/common';
import type { Subscription } from 'nats';
import { JetstreamConnection } from './jetstream-connection';

/**
 * A message handed to the app. Settling it (ack, nak or term) frees its slot
 * in the runner, so the number of unsettled messages a pod holds stays bounded.
 */
export interface InboundMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  readonly streamSequence: number;
  header(name: string): string | undefined;
  ack(): void;
  /** Redeliver after `delayMs` (0: at once). */
  nak(delayMs?: number): void;
  /** Never redeliver. */
  term(): void;
  /** Resets the ack timer for long work. */
  working(): void;
  readonly settled: boolean;
}

export interface ConsumerRunOptions {
  stream: string;
  durable: string;
  /** Most messages held unsettled by this pod at once (buffered plus in work). */
  maxInFlight: number;
  /** Most messages passed to one `handleBatch` call. */
  maxBatch: number;
  /**
   * `handleBatch` calls running at once (default 2). Messages that arrive
   * meanwhile wait and form the next batch, so a busy pod makes few large
   * batches (one transaction each) and an idle one starts a batch at once.
   */
  maxConcurrentBatches?: number;
  /**
   * Tells the server every this many milliseconds that held messages are
   * still in work (`working()`), so a long queue of attempts on a busy pod
   * does not pass `ack_wait` and get the message redelivered to another pod
   * while this one still sends it. A crashed pod stops telling, and its
   * messages come back after `ack_wait`. Keep it well below `ack_wait`.
   */
  workingEveryMs?: number;
  /**
   * …but for no longer than this after a message arrived (default 5 minutes):
   * a pod that is wedged with messages in hand lets another pod take them.
   */
  workingForMs?: number;
  /**
   * True while the app has enough work queued (e.g. attempts waiting for a
   * connection), counting the `waiting` messages taken but not yet through
   * `handleBatch`: the runner takes no further messages until it is false,
   * so a busy pod does not hoard messages that idle pods could work on.
   */
  backlogged?: (waiting: number) => boolean;
  /** Processes a batch; may return before every message is settled. */
  handleBatch(batch: InboundMessage[]): Promise<void>;
  /** Delay before a batch whose handler threw is redelivered. */
  failureDelayMs?: number;
}

export interface RunningConsumer {
  /** Stops taking messages, waits up to `graceMs` for those in work, returns the rest to the server. */
  stop(graceMs: number): Promise<void>;
  readonly inFlight: number;
}

/** The parts of a pulled JetStream message (`JsMsg`) the runner uses. */
export interface PulledMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly info: { readonly deliveryCount: number; readonly streamSequence: number };
  readonly headers?: { get(name: string): string };
  ack(): void;
  nak(millis?: number): void;
  term(): void;
  working(): void;
}

/** The parts of the client's `consume()` iterator (`ConsumerMessages`) the runner uses. */
export interface PulledMessages extends AsyncIterable<PulledMessage> {
  stop(): void;
}

/** Most messages one pull asks for. */
const PULL_SIZE = 32;
/** How long one pull waits on the server (its heartbeats come every half of it). */
const PULL_EXPIRES_MS = 10_000;
/** How long stopping waits for the server to confirm the consumer's unsubscribe (see `drainConsume`). */
const DRAIN_ROUND_TRIP_MS = 2_000;
/** How often a pod paused by its backlog looks again. */
const BACKLOG_CHECK_MS = 20;

/**
 * Sends the acks of one event-loop turn together. The client writes to the
 * socket once per turn in which something was published, and acks arrive one
 * by one as attempts finish: gathered, they cost one write instead of one each.
 */
class AckBatcher {
  private pending: PulledMessage[] = [];
  private scheduled = false;

  add(msg: PulledMessage): void {
    this.pending.push(msg);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  readonly flush = (): void => {
    this.scheduled = false;
    const due = this.pending;
    this.pending = [];
    for (const m of due) m.ack();
  };
}

class Settleable implements InboundMessage {
  settled = false;
  constructor(
    private readonly msg: PulledMessage,
    private readonly acks: AckBatcher,
    private readonly onSettle: () => void,
  ) {}
  get subject(): string {
    return this.msg.subject;
  }
  get data(): Uint8Array {
    return this.msg.data;
  }
  get deliveryCount(): number {
    return this.msg.info.deliveryCount;
  }
  get streamSequence(): number {
    return this.msg.info.streamSequence;
  }
  header(name: string): string | undefined {
    return this.msg.headers?.get(name) || undefined;
  }
  ack(): void {
    if (this.settle()) this.acks.add(this.msg);
  }
  nak(delayMs = 0): void {
    if (this.settle()) this.msg.nak(delayMs > 0 ? delayMs : undefined);
  }
  term(): void {
    if (this.settle()) this.msg.term();
  }
  working(): void {
    if (!this.settled) this.msg.working();
  }
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.onSettle();
    return true;
  }
}

/** The parts of the client's pull-consumer iterator that `drainConsume` needs; its interface does not name them. */
interface ConsumeInternals {
  refilling?: boolean;
  sub?: Pick<Subscription, 'isClosed' | 'drain'>;
  _push?: (fn: () => void) => void;
}

/**
 * Ends `consume()` so that nothing it was sent is stranded here. A plain
 * `stop()` unsubscribes at once: a message already on its way is dropped by
 * the client and stays with this pod, unseen, until `ack_wait`. Worse, the
 * client sends its pull requests lazily, as the iterator reaches them, so
 * iterating on after the unsubscribe sends requests for an inbox nobody
 * reads, and the server hands them messages (a nak'd one at once).
 *
 * So: no new pull requests; a marker through the iterator, so every request
 * already queued is sent (while this pod still listens); then the inbox
 * subscription is drained (unsubscribe plus a round trip), so whatever the
 * server sent before it saw the unsubscribe still reaches the iterator, whose
 * reader sets it aside to nak. Falls back to `stop()` if the client lacks
 * these parts. `reader` settles when the iterator has ended.
 */
async function drainConsume(messages: PulledMessages, reader: Promise<void>): Promise<void> {
  const impl = messages as PulledMessages & ConsumeInternals;
  const push = impl._push?.bind(impl);
  if (typeof impl.refilling === 'boolean' && push && impl.sub && !impl.sub.isClosed()) {
    impl.refilling = false;
    // An iterator that has already ended never reaches the marker.
    await Promise.race([new Promise<void>((resolve) => push(resolve)), reader]);
    // The round trip waits for the server; with NATS away it would wait for the reconnect, so it is bounded.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([impl.sub.drain().catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_ROUND_TRIP_MS)))]);
    clearTimeout(timer);
  }
  messages.stop();
}

/**
 * One running consumer: reads `consume()` with the async iterator (an async
 * callback would not be awaited), batching what has already arrived, and
 * holds no more than `maxInFlight` unsettled messages.
 */
export class ConsumerLoop implements RunningConsumer {
  private readonly acks = new AckBatcher();
  private held = 0;
  private stopping = false;
  /** Taken, not yet in a `handleBatch` call. */
  private readonly queue: Settleable[] = [];
  private spaceWaiter: (() => void) | undefined;
  private idleWaiter: (() => void) | undefined;
  private scheduled = false;
  /** `handleBatch` calls that have not returned. */
  private running = 0;
  /** Messages in `handleBatch` calls that have not returned. */
  private inBatches = 0;
  private readonly maxConcurrent: number;
  /** Unsettled messages and when they arrived. */
  private readonly arrivals = new Map<Settleable, number>();
  private readonly workingFor: number;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Taken while stopping: nak'd once the inbox is drained (see `stop`). */
  private readonly returned: PulledMessage[] = [];
  private reader: Promise<void> = Promise.resolve();

  constructor(
    private readonly messages: PulledMessages,
    private readonly options: ConsumerRunOptions,
    private readonly logger: Pick<LoggerService, 'error'>,
  ) {
    this.maxConcurrent = Math.max(1, options.maxConcurrentBatches ?? 2);
    this.workingFor = options.workingForMs ?? 5 * 60_000;
  }

  get inFlight(): number {
    return this.held;
  }

  /** Starts reading messages and, with `workingEveryMs`, telling the server they are in work. */
  start(): this {
    if (this.options.workingEveryMs) {
      this.heartbeat = setInterval(this.keepWorking, this.options.workingEveryMs);
      this.heartbeat.unref();
    }
    this.reader = this.read().catch((err: unknown) => this.logger.error({ err, durable: this.options.durable }, 'consumer stopped'));
    return this;
  }

  /** Stops taking messages, waits up to `graceMs` for those in work, returns the rest to the server. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wakeReader();
    // Pulled but not started (in the client's buffer, in flight from the server, in the queue): back to
    // the server at once (nak without delay), so another pod takes them now rather than after `ack_wait`.
    // Only once the server has seen the unsubscribe: a message nak'd while this pod's pull requests
    // were still open could be handed straight back to one of them and be lost with the inbox.
    await drainConsume(this.messages, this.reader);
    await this.reader;
    for (const msg of this.returned.splice(0)) msg.nak();
    for (const m of this.queue.splice(0)) m.nak();
    this.acks.flush();
    if (this.held > 0) {
      await Promise.race([new Promise<void>((resolve) => (this.idleWaiter = resolve)), new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref())]);
    }
    clearInterval(this.heartbeat);
    this.acks.flush();
  }

  private async read(): Promise<void> {
    const { maxInFlight, maxBatch, backlogged } = this.options;
    for await (const msg of this.messages) {
      if (this.stopping) {
        this.returned.push(msg);
        continue;
      }
      this.held++;
      const m: Settleable = new Settleable(msg, this.acks, () => this.release(m));
      this.arrivals.set(m, Date.now());
      this.queue.push(m);
      this.scheduleBatches();
      // A full batch waiting is enough; so is a backlog, counting what the waiting messages will add.
      while (!this.stopping && (this.held >= maxInFlight || this.queue.length >= maxBatch || backlogged?.(this.queue.length + this.inBatches))) {
        // A settled message wakes the loop; a backlog that drains without one is seen on the next check.
        await new Promise<void>((resolve) => {
          this.spaceWaiter = resolve;
          setTimeout(resolve, BACKLOG_CHECK_MS);
        });
      }
    }
  }

  private wakeReader(): void {
    const wake = this.spaceWaiter;
    this.spaceWaiter = undefined;
    wake?.();
  }

  private release(m: Settleable): void {
    this.arrivals.delete(m);
    this.held--;
    this.wakeReader();
    if (this.held === 0) this.idleWaiter?.();
  }

  private readonly keepWorking = (): void => {
    const now = Date.now();
    for (const [m, arrived] of this.arrivals) if (now - arrived < this.workingFor) m.working();
  };

  // After the I/O callbacks of this turn: every message the client has already
  // parsed joins the batch, instead of one batch (and one transaction) per message.
  private scheduleBatches(): void {
    if (this.scheduled || this.queue.length === 0 || this.running >= this.maxConcurrent) return;
    this.scheduled = true;
    setImmediate(this.startBatches);
  }

  private readonly startBatches = (): void => {
    this.scheduled = false;
    while (this.queue.length > 0 && this.running < this.maxConcurrent) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.running++;
      this.inBatches += batch.length;
      this.wakeReader();
      this.options
        .handleBatch(batch)
        .catch((err: unknown) => {
          this.logger.error({ err, durable: this.options.durable }, 'batch failed; redelivering');
          for (const m of batch) m.nak(this.options.failureDelayMs ?? 1_000);
        })
        .finally(() => {
          this.running--;
          this.inBatches -= batch.length;
          this.scheduleBatches();
        });
    }
  };
}

/** Starts durable pull consumers with explicit acks (see `ConsumerLoop`). */
@Injectable()
export class ConsumerRunner {
  private readonly logger = new Logger(ConsumerRunner.name);

  constructor(private readonly connection: JetstreamConnection) {}

  async run(options: ConsumerRunOptions): Promise<RunningConsumer> {
    const consumer = await this.connection.js.consumers.get(options.stream, options.durable);
    // Small pulls: messages in the client's buffer are this pod's (their ack_wait runs) but not in work
    // yet, and a pod paused by its backlog should leave the rest to the others. The client pulls again
    // only as the loop takes messages, so a paused loop holds at most this many.
    const pullSize = Math.max(1, Math.min(options.maxInFlight, options.maxBatch, PULL_SIZE));
    // The client pulls again once a quarter is left (by default at three quarters: a pull for every
    // eighth of the buffer, each a request the server answers separately).
    // Pulls expire after PULL_EXPIRES_MS (the client's default is 30 s): a pull the server dropped (its consumer's
    // leader moved, or the consumer was created again) is noticed by its missed heartbeats, at half that, twice.
    const messages = await consumer.consume({ max_messages: pullSize, threshold_messages: Math.floor(pullSize / 4), expires: PULL_EXPIRES_MS });
    return new ConsumerLoop(messages, options, this.logger).start();
  }
}
