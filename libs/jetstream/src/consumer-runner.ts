import { Injectable, Logger } from '@nestjs/common';
import type { ConsumerMessages, JsMsg } from 'nats';
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

class Settleable implements InboundMessage {
  settled = false;
  constructor(
    private readonly msg: JsMsg,
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
    if (this.settle()) this.msg.ack();
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

/**
 * Runs a durable pull consumer with explicit acks and a bound on unsettled
 * messages. `consume()` is read with the async iterator (an async callback
 * would not be awaited), batching what has already arrived.
 */
@Injectable()
export class ConsumerRunner {
  private readonly logger = new Logger(ConsumerRunner.name);

  constructor(private readonly connection: JetstreamConnection) {}

  async run(options: ConsumerRunOptions): Promise<RunningConsumer> {
    const consumer = await this.connection.js.consumers.get(options.stream, options.durable);
    const pullSize = Math.max(1, Math.min(options.maxInFlight, 256));
    const messages: ConsumerMessages = await consumer.consume({ max_messages: pullSize });

    let inFlight = 0;
    let stopping = false;
    const queue: Settleable[] = [];
    let spaceWaiter: (() => void) | undefined;
    let idleWaiter: (() => void) | undefined;
    let draining = false;

    const release = (): void => {
      inFlight--;
      const wake = spaceWaiter;
      spaceWaiter = undefined;
      wake?.();
      if (inFlight === 0) idleWaiter?.();
    };

    const drain = (): void => {
      if (draining) return;
      draining = true;
      queueMicrotask(() => {
        draining = false;
        while (queue.length > 0) {
          const batch = queue.splice(0, options.maxBatch);
          options.handleBatch(batch).catch((err: unknown) => {
            this.logger.error({ err, durable: options.durable }, 'batch failed; redelivering');
            for (const m of batch) m.nak(options.failureDelayMs ?? 1_000);
          });
        }
      });
    };

    const pump = (async () => {
      for await (const msg of messages) {
        if (stopping) {
          msg.nak();
          continue;
        }
        inFlight++;
        queue.push(new Settleable(msg, release));
        drain();
        while (inFlight >= options.maxInFlight && !stopping) {
          await new Promise<void>((resolve) => (spaceWaiter = resolve));
        }
      }
    })().catch((err: unknown) => this.logger.error({ err, durable: options.durable }, 'consumer stopped'));

    return {
      get inFlight() {
        return inFlight;
      },
      stop: async (graceMs: number) => {
        stopping = true;
        spaceWaiter?.();
        messages.stop();
        await pump;
        if (inFlight > 0) {
          await Promise.race([
            new Promise<void>((resolve) => (idleWaiter = resolve)),
            new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
          ]);
        }
      },
    };
  }
}
