import { Injectable, Logger } from '@nestjs/common';
import { RetryQueue } from '@hookhub/jetstream';
import { DeliveryRepository } from '@hookhub/persistence';

/**
 * Moves parked retries (long delays kept in PostgreSQL) onto the retries
 * stream when they fall due. Every pod runs it; `FOR UPDATE SKIP LOCKED`
 * gives each due row to one of them.
 */
@Injectable()
export class RetryScheduler {
  private readonly logger = new Logger(RetryScheduler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly queue: RetryQueue,
  ) {}

  start(intervalMs: number): void {
    const tick = async (): Promise<void> => {
      try {
        while ((await this.releaseBatch()) === 500) {
          /* a full batch: more may be due */
        }
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'releasing parked retries failed; trying again');
      }
    };
    this.timer = setInterval(() => {
      this.running ??= tick().finally(() => (this.running = undefined));
    }, intervalMs);
  }

  releaseBatch(): Promise<number> {
    return this.deliveries.releaseDueRetries(500, async (due) => {
      await Promise.all(
        due.map((d) => this.queue.enqueue({ delivery_id: d.deliveryId, subscription_id: d.subscriptionId, attempt: d.attempt, due_at: d.dueAt.getTime() })),
      );
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
