import { Injectable, Logger } from '@nestjs/common';
import { RetryQueue } from '@hookhub/jetstream';
import { ResourceOrderRepository, RetryScheduleRepository } from '@hookhub/persistence';
import { traceFromParent } from '@hookhub/tracing';
import { OverdueSweep } from './overdue-sweep';

/** A held delivery untouched this long whose wait is over lost its releaser (a pod died): the sweep releases it. */
const STRANDED_HOLD_MS = 5_000;
const SWEEP_EVERY_MS = 5_000;

/**
 * Moves parked retries (long delays kept in PostgreSQL) onto the retries
 * stream when they fall due. Every pod runs it; `FOR UPDATE SKIP LOCKED`
 * gives each due row to one of them. It also sweeps held deliveries (see
 * ResourceOrder) whose releaser died, and, less often, attempts whose job
 * the retries stream lost (OverdueSweep), which it parks due now.
 */
@Injectable()
export class RetryScheduler {
  private readonly logger = new Logger(RetryScheduler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private lastSweep = 0;
  private lastOverdueSweep = Date.now();
  private stopped = false;

  constructor(
    private readonly deliveries: RetryScheduleRepository,
    private readonly order: ResourceOrderRepository,
    private readonly queue: RetryQueue,
    private readonly overdue: OverdueSweep,
  ) {}

  start(intervalMs: number): void {
    this.stopped = false;
    this.timer = setInterval(() => this.poke(), intervalMs);
  }

  /** Runs a pass now (or right after the one under way): deliveries were just made due. */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.tick().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  private async tick(): Promise<void> {
    if (Date.now() - this.lastOverdueSweep >= this.overdue.everyMs) {
      this.lastOverdueSweep = Date.now();
      // Before the release below, which enqueues what it parked in the same pass.
      await this.overdue.run().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'looking for lost retry jobs failed; next pass'));
    }
    try {
      if (Date.now() - this.lastSweep >= SWEEP_EVERY_MS) {
        this.lastSweep = Date.now();
        await this.order.releaseStranded(STRANDED_HOLD_MS, 500);
      }
      while ((await this.releaseBatch()) === 500) {
        /* a full batch: more may be due */
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'releasing parked retries failed; trying again');
    }
  }

  releaseBatch(): Promise<number> {
    return this.deliveries.releaseDueRetries(500, async (due) => {
      const published = await Promise.allSettled(
        due.map((d) =>
          this.queue.enqueue(
            { delivery_id: d.deliveryId, subscription_id: d.subscriptionId, attempt: d.attempt, due_at: d.dueAt.getTime() },
            // Waiting in PostgreSQL lost the message that carried the event's trace: the kept traceparent joins it again.
            traceFromParent(d.traceParent),
          ),
        ),
      );
      const failed = published.filter((p) => p.status === 'rejected').length;
      if (failed > 0) this.logger.warn({ failed, of: due.length }, 'some due retries could not be enqueued; they stay parked for the next pass');
      return due.filter((_, i) => published[i].status === 'fulfilled').map((d) => d.deliveryId);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
