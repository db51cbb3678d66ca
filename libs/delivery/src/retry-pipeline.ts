import { Injectable, Logger } from '@nestjs/common';
import { canonicalEnvelope, EventEnvelope, RetryJob } from '@hookhub/contracts';
import type { InboundMessage } from '@hookhub/jetstream';
import { awaitsAttempt, RetryScheduleRepository, SubscriptionRepository } from '@hookhub/persistence';
import { DeliveryExecutor } from './delivery-executor';
import { EventPayloads } from './payload';

const decoder = new TextDecoder();
/** Jobs this close to their time run now rather than paying another round trip. */
const EARLY_MS = 20;

/**
 * Runs retry jobs from the retries stream. A job before its time is nak'd with
 * the remaining delay, so JetStream keeps the schedule across pod restarts.
 * A job whose delivery is finished, cancelled or already past this attempt is
 * acked and dropped: jobs are at-least-once, attempts must not repeat.
 */
@Injectable()
export class RetryPipeline {
  private readonly logger = new Logger(RetryPipeline.name);

  constructor(
    private readonly deliveries: RetryScheduleRepository,
    private readonly subscriptions: SubscriptionRepository,
    private readonly executor: DeliveryExecutor,
  ) {}

  async handleBatch(batch: InboundMessage[]): Promise<void> {
    const now = Date.now();
    const due: Array<{ msg: InboundMessage; job: RetryJob }> = [];
    for (const msg of batch) {
      const job = this.parse(msg);
      if (!job) continue;
      if (job.due_at - now > EARLY_MS) msg.nak(job.due_at - now);
      // Asking the database about a job whose subscription is busy here would only cost a round trip.
      else if (this.executor.isBusy(job.subscription_id)) msg.nak(this.executor.busyBackoffMs(job.subscription_id));
      else due.push({ msg, job });
    }
    if (due.length === 0) return;

    const contexts = await this.deliveries.loadRetryContexts([...new Set(due.map((d) => d.job.delivery_id))]);
    const subs = await this.subscriptions.findByIds([...new Set(due.map((d) => d.job.subscription_id))]);
    for (const { msg, job } of due) {
      const ctx = contexts.get(job.delivery_id);
      const sub = subs.get(job.subscription_id);
      if (!ctx || !sub || !awaitsAttempt(ctx, job.attempt)) {
        msg.ack();
        continue;
      }
      if (sub.state !== 'active') {
        // Disabling cancels waiting retries; a job already on its way is dropped here.
        msg.ack();
        continue;
      }
      const payloads = new EventPayloads(canonicalEnvelope(ctx.envelope as EventEnvelope), ctx.changeStatus);
      const attempt = { deliveryId: ctx.id, attempt: job.attempt, subscription: sub, payloads, resourceVersion: ctx.resourceVersion, admittedAt: now };
      this.executor.attempt(attempt, { deferWhenBusy: true }).then(
        (outcome) => (outcome === 'deferred' ? msg.nak(this.executor.busyBackoffMs(sub.id)) : msg.ack()),
        (err: unknown) => {
          this.logger.error({ err, deliveryId: ctx.id }, 'retry failed before it was recorded; running it again');
          msg.nak(5_000);
        },
      );
    }
  }

  private parse(msg: InboundMessage): RetryJob | null {
    try {
      const job = JSON.parse(decoder.decode(msg.data)) as RetryJob;
      if (typeof job.delivery_id === 'string' && typeof job.subscription_id === 'string' && Number.isInteger(job.attempt) && Number.isFinite(job.due_at)) {
        return job;
      }
    } catch {
      /* fall through */
    }
    this.logger.error({ subject: msg.subject }, 'malformed retry job; terminated');
    msg.term();
    return null;
  }
}
