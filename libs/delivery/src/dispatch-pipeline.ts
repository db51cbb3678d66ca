import { Injectable, Logger } from '@nestjs/common';
import { EventEnvelope, EventValidator, canonicalEnvelope } from '@hookhub/contracts';
import { eventKey } from '@hookhub/event-store';
import type { InboundMessage } from '@hookhub/jetstream';
import { RetryScheduleRepository } from '@hookhub/persistence';
import { DeliveryExecutor } from './delivery-executor';
import { DeliveryMetrics } from './delivery-metrics';
import { RetryPlanner } from './retry-planner';
import { FanOutService } from './fan-out.service';
import { ResourceOrder } from './resource-order';
import { EventPayloads } from './payload';

const decoder = new TextDecoder();

/**
 * What the dispatcher does with a batch of events from JetStream: validate,
 * record and fan out in one transaction, attempt every pending delivery, and
 * ack each event once its deliveries' attempts are recorded. A failure before
 * that naks the event, and the redelivery resumes where it stopped.
 */
@Injectable()
export class DispatchPipeline {
  private readonly logger = new Logger(DispatchPipeline.name);
  private readonly validator = new EventValidator();
  /** Moving average of the deliveries an event brings: how much work events still in line will add. */
  private deliveriesPerEvent = 1;
  /** Attempts under way on this pod, by delivery: a second copy of an event waits for them instead of repeating them. */
  private readonly inWork = new Map<string, Promise<unknown>>();

  constructor(
    private readonly fanOut: FanOutService,
    private readonly executor: DeliveryExecutor,
    private readonly planner: RetryPlanner,
    private readonly deliveries: RetryScheduleRepository,
    private readonly metrics: DeliveryMetrics,
    private readonly order: ResourceOrder,
  ) {}

  /** Whether this pod has enough work in line, counting what `waiting` events will add (see `ConsumerRunOptions.backlogged`). */
  backlogged(waiting: number): boolean {
    return this.executor.backlogged(waiting * this.deliveriesPerEvent);
  }

  async handleBatch(batch: InboundMessage[]): Promise<void> {
    const accepted: Array<{ msg: InboundMessage; event: EventEnvelope }> = [];
    for (const msg of batch) {
      const event = this.parse(msg);
      if (event) accepted.push({ msg, event });
    }
    if (accepted.length === 0) return;

    // A subscription already saturated here (slow or dead endpoint) gets its new deliveries parked in
    // PostgreSQL by the fan-out itself, for the retry scheduler: nothing to send or publish for them now.
    const { deliveries: plan, statuses } = await this.fanOut.fanOut(
      accepted.map((a) => a.event),
      (subscriptionId) => (this.executor.isBusy(subscriptionId) ? this.executor.busyBackoffMs(subscriptionId) : null),
    );
    const admittedAt = Date.now();
    let plannedCount = 0;
    const held: string[] = [];
    for (const deliveries of plan.values()) {
      plannedCount += deliveries.length;
      for (const p of deliveries) if (p.delivery.created && p.delivery.held) held.push(p.delivery.id);
    }
    this.deliveriesPerEvent = this.deliveriesPerEvent * 0.8 + (plannedCount / accepted.length) * 0.2;
    // Held behind an earlier delivery of their resource: if that one settled before our commit made them
    // visible, its release missed them, so look again now. Failing here only delays them until the sweep.
    if (held.length > 0) {
      this.order.recheck(held).catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'releasing held deliveries failed; the sweep will'));
    }

    for (const { msg, event } of accepted) {
      const payloads = new EventPayloads(event, statuses.get(eventKey(event)));
      // Every pending delivery is this message's to finish, whatever its delivery count: after a NATS crash
      // JetStream can hand an event out again with deliveryCount 1 while its earlier copy, whose attempt
      // failed before it was recorded, is already settled; skipping the delivery would strand it pending.
      // A parked delivery belongs to the retry scheduler, which releases it when due.
      const planned = plan.get(eventKey(event)) ?? [];
      for (const p of planned) if (p.delivery.created && p.delivery.parked && !p.delivery.held) this.metrics.deferred.inc();
      const pending = planned.filter((p) => p.delivery.status === 'pending' && !p.delivery.parked);
      if (pending.length === 0) {
        msg.ack();
        continue;
      }
      // Settled once every delivery is: a failure must not hand the event back while its other
      // deliveries are still being sent (the redelivery would send them a second time).
      Promise.allSettled(
        pending.map((p) => {
          const attempt = p.delivery.attemptCount + 1;
          // A busy subscription (slow or dead endpoint) must not hold this event, and with it every
          // other subscription's delivery: its attempt moves to the retries stream unchanged (still
          // pending, so later deliveries of its resource stay held behind it). The retry pipeline
          // drops a job whose delivery is no longer pending or already past this attempt.
          const defer = (): Promise<void> => this.planner.defer(p.delivery.id, p.subscription.id, attempt);
          if (this.executor.isBusy(p.subscription.id)) return defer();
          return this.exclusively(p.delivery.id, async () => {
            // A delivery this message did not create may have been in work here (this runs after it) or
            // elsewhere (an event re-published after the duplicate window, a redelivery): send it only
            // if it is still pending as the fan-out saw it, so a recorded attempt is not repeated.
            if (!p.delivery.created && !(await this.stillPending(p.delivery.id, p.delivery.attemptCount))) return;
            const job = { deliveryId: p.delivery.id, attempt, subscription: p.subscription, payloads, resourceVersion: p.delivery.resourceVersion, admittedAt };
            if ((await this.executor.attempt(job, { deferWhenBusy: true })) === 'deferred') await defer();
          });
        }),
      ).then((outcomes) => {
        const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
        if (!failed) return msg.ack();
        this.logger.error({ err: failed.reason, eventId: event.id }, 'delivery failed before it was recorded; redelivering the event');
        msg.nak(5_000);
      });
    }
  }

  /** Runs `work` after any attempt of the same delivery already under way on this pod. */
  private exclusively(deliveryId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.inWork.get(deliveryId);
    const run = previous ? previous.then(work, work) : work();
    const tail = run.catch(() => undefined);
    this.inWork.set(deliveryId, tail);
    void tail.then(() => {
      if (this.inWork.get(deliveryId) === tail) this.inWork.delete(deliveryId);
    });
    return run;
  }

  private async stillPending(deliveryId: string, attemptCount: number): Promise<boolean> {
    const now = (await this.deliveries.loadRetryContexts([deliveryId])).get(deliveryId);
    return now?.status === 'pending' && now.attemptCount === attemptCount;
  }

  /** An event that can never be valid is terminated: redelivering it would only fail again. */
  private parse(msg: InboundMessage): EventEnvelope | null {
    let candidate: unknown;
    try {
      candidate = JSON.parse(decoder.decode(msg.data));
    } catch {
      this.logger.error({ subject: msg.subject, seq: msg.streamSequence }, 'event is not JSON; terminated');
      msg.term();
      return null;
    }
    const result = this.validator.validate(candidate);
    if (!result.ok) {
      this.logger.error({ subject: msg.subject, seq: msg.streamSequence, errors: result.errors }, 'event is invalid; terminated');
      msg.term();
      return null;
    }
    return canonicalEnvelope(result.event);
  }
}
