import { Injectable, Logger } from '@nestjs/common';
import { canonicalEnvelope, EventEnvelope, RetryJob, withSchemaVersion } from '@hookhub/contracts';
import { EventTypeRegistry } from '@hookhub/event-catalogue';
import type { InboundMessage } from '@hookhub/jetstream';
import { awaitsAttempt, RetryContext, RetryScheduleRepository, SubscriptionEntity, SubscriptionRepository } from '@hookhub/persistence';
import { contextOf, endSpan, Span, tracingOn } from '@hookhub/tracing';
import { DeliveryAdmission } from './admission';
import { AttemptSender, DeliveryJob } from './attempt-sender';
import { AttemptSettlement } from './attempt-settlement';
import { processSpan } from './delivery-spans';
import { EventPayloads } from './payload';
import { RateLine } from './rate-line';
import { SubscriptionSlot } from './subscription-load';

const decoder = new TextDecoder();
/** Jobs this close to their time run now rather than paying another round trip. */
const EARLY_MS = 20;

/**
 * Runs retry jobs from the retries stream, through the same stages as a
 * first attempt: parse the job, admit it, load its delivery, send, settle.
 * A job before its time is nak'd with the remaining delay, so JetStream
 * keeps the schedule across pod restarts. A job whose delivery is finished,
 * cancelled or already past this attempt is acked and dropped: jobs are
 * at-least-once, attempts must not repeat.
 */
@Injectable()
export class RetryPipeline {
  private readonly logger = new Logger(RetryPipeline.name);

  constructor(
    private readonly admission: DeliveryAdmission,
    private readonly deliveries: RetryScheduleRepository,
    private readonly subscriptions: SubscriptionRepository,
    private readonly sender: AttemptSender,
    private readonly settlement: AttemptSettlement,
    private readonly registry: EventTypeRegistry,
    private readonly rateLine: RateLine,
  ) {}

  /** Whether this pod has enough attempts in line, counting `waiting` jobs (see `ConsumerRunOptions.backlogged`). */
  backlogged(waiting: number): boolean {
    return this.admission.backlogged(waiting);
  }

  async handleBatch(batch: InboundMessage[]): Promise<void> {
    const now = Date.now();
    // Parse, and admit before asking the database: a job for a subscription busy here would only cost a round trip.
    const due: Array<{ msg: InboundMessage; job: RetryJob; slot: SubscriptionSlot; span?: Span }> = [];
    for (const msg of batch) {
      const job = this.parse(msg);
      if (!job) continue;
      if (job.due_at - now > EARLY_MS) {
        msg.nak(job.due_at - now);
        continue;
      }
      const admitted = this.admission.admit({ subscriptionId: job.subscription_id });
      // A consumer span for the jobs that run now, continuing the trace the job's headers carry (an early
      // job or a busy subscription's, nak'd to come back later, gets none: it would only repeat).
      const span = admitted.kind === 'send' && tracingOn() ? processSpan('process retries', msg, retrySpanAttributes(job)) : undefined;
      if (admitted.kind === 'send') due.push({ msg, job, slot: admitted.slot, span });
      else if (admitted.kind === 'wait') msg.nak(admitted.delayMs);
    }
    if (due.length === 0) return;

    let contexts: Map<string, RetryContext>;
    let subs: Map<string, SubscriptionEntity>;
    try {
      // Independent reads: one round trip's wait instead of two.
      [contexts, subs] = await Promise.all([
        this.deliveries.loadRetryContexts([...new Set(due.map((d) => d.job.delivery_id))]),
        this.subscriptions.findByIds([...new Set(due.map((d) => d.job.subscription_id))]),
      ]);
    } catch (err) {
      for (const d of due) {
        d.slot.release();
        endSpan(d.span, 'loading the deliveries failed; the jobs are redelivered');
      }
      throw err;
    }
    const toLine: Array<{ msg: InboundMessage; job: RetryJob }> = [];
    for (const { msg, job, slot, span } of due) {
      const ctx = contexts.get(job.delivery_id);
      const sub = subs.get(job.subscription_id);
      // Finished, cancelled, past this attempt, or its subscription disabled meanwhile (disabling
      // cancels waiting retries; a job already on its way is dropped here).
      if (!ctx || !sub || !awaitsAttempt(ctx, job.attempt) || sub.state !== 'active') {
        slot.release();
        span?.setAttribute('hookhub.retry.dropped', true);
        endSpan(span);
        msg.ack();
        continue;
      }
      // Known only now: an attempt of a rate-limited subscription waits for a lease of its budget in the
      // subscription's rate line (in the place it was given when created, before newer deliveries).
      if (this.admission.waitsForBudget(sub)) {
        slot.release();
        span?.setAttribute('hookhub.retry.rate_line', true);
        endSpan(span);
        toLine.push({ msg, job });
        continue;
      }
      const event = withSchemaVersion(canonicalEnvelope(ctx.envelope as EventEnvelope), ctx.schemaVersion);
      const payloads = new EventPayloads(event, ctx.changeStatus, this.registry.current());
      const attempt: DeliveryJob = {
        deliveryId: ctx.id,
        attempt: job.attempt,
        subscription: sub,
        payloads,
        resourceVersion: ctx.resourceVersion,
        admittedAt: now,
        trace: contextOf(span),
      };
      this.sender
        .send(attempt, slot)
        .then((sent) => this.settlement.settle(attempt, sent))
        .then(
          () => {
            endSpan(span);
            msg.ack();
          },
          (err: unknown) => {
            this.logger.error({ err, deliveryId: ctx.id }, 'retry failed before it was recorded; running it again');
            endSpan(span, 'retry failed before it was recorded; the job is redelivered');
            msg.nak(5_000);
          },
        );
    }
    if (toLine.length > 0) this.joinRateLine(toLine);
  }

  /** Puts the jobs' attempts in their subscriptions' rate lines, then acks the jobs; a failure hands them back to come again. */
  private joinRateLine(jobs: Array<{ msg: InboundMessage; job: RetryJob }>): void {
    this.rateLine.join(jobs.map(({ job }) => ({ deliveryId: job.delivery_id, attempt: job.attempt }))).then(
      () => {
        for (const { msg } of jobs) msg.ack();
      },
      (err: unknown) => {
        this.logger.warn({ err: (err as Error).message, jobs: jobs.length }, 'putting retries in their rate lines failed; they come again');
        for (const { msg } of jobs) msg.nak(1_000);
      },
    );
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

/** What a retry job's span says about it (its delivery, subscription and attempt). */
function retrySpanAttributes(job: RetryJob): Record<string, string | number> {
  return { 'hookhub.delivery.id': job.delivery_id, 'hookhub.subscription.id': job.subscription_id, 'hookhub.attempt': job.attempt };
}
