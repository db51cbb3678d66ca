import { Inject, Injectable } from '@nestjs/common';
import { type DeliveryStatus, RetryScheduleRepository } from '@hookhub/persistence';
import { RetryQueue } from '@hookhub/jetstream';
import type { TraceContext } from '@hookhub/tracing';
import { DeliveryMetrics } from './delivery-metrics';
import { DELIVERY_SETTINGS, DeliverySettings } from './delivery.settings';

export interface RetryDecision {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  reason: string | null;
  parked: boolean;
}

export interface FailedAttempt {
  deliveryId: string;
  subscriptionId: string;
  /** The attempt that failed, 1 for the first. */
  attempt: number;
  retryPolicyMs: number[];
  error: string;
  /** The event's trace: the retry job carries it, so the next attempt joins it. */
  trace?: TraceContext;
}

/**
 * The retry scheme. Attempt n failed: if the policy has an nth delay, the
 * next attempt is scheduled `policy[n-1]` later, else the delivery has failed
 * for good (dead letter, visible in the API).
 *
 * Short delays go on the retries stream right away as a job with `due_at`;
 * its consumer naks it with the remaining time, so JetStream holds the wait
 * and a restarted pod finds it there. Long delays (above the park threshold)
 * would hold a consumer slot for minutes or hours, so they wait in
 * PostgreSQL (`parked`) until the scheduler enqueues them when due.
 */
@Injectable()
export class RetryPlanner {
  constructor(
    private readonly queue: RetryQueue,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    private readonly metrics: DeliveryMetrics,
    private readonly deliveries: RetryScheduleRepository,
  ) {}

  async afterFailure(f: FailedAttempt): Promise<RetryDecision> {
    const delay = f.retryPolicyMs[f.attempt - 1];
    if (delay === undefined) {
      return { status: 'failed', nextAttemptAt: null, parked: false, reason: `gave up after ${f.attempt} attempts; last error: ${f.error}` };
    }
    const dueAt = Date.now() + delay;
    if (delay > this.settings.parkThresholdMs) {
      this.metrics.retriesScheduled.inc({ where: 'postgres' });
      return { status: 'retrying', nextAttemptAt: new Date(dueAt), parked: true, reason: f.error };
    }
    await this.queue.enqueue({ delivery_id: f.deliveryId, subscription_id: f.subscriptionId, attempt: f.attempt + 1, due_at: dueAt }, f.trace);
    this.metrics.retriesScheduled.inc({ where: 'jetstream' });
    return { status: 'retrying', nextAttemptAt: new Date(dueAt), parked: false, reason: f.error };
  }

  /**
   * Hands an attempt that cannot start now (its subscription is saturated) to the retries stream, unchanged.
   * Its pending delivery is marked as waiting there, so the overdue sweep watches the job as it does a retry's.
   */
  async defer(deliveryId: string, subscriptionId: string, attempt: number, trace?: TraceContext): Promise<void> {
    await this.queue.enqueue({ delivery_id: deliveryId, subscription_id: subscriptionId, attempt, due_at: Date.now() }, trace);
    await this.deliveries.markQueued(deliveryId);
    this.metrics.deferred.inc();
  }
}
