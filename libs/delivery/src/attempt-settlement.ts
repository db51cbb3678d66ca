import { randomUUID } from 'node:crypto';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AttemptRecord, DeliveryStatus } from '@hookhub/persistence';
import { PinoLogger } from '@hookhub/platform';
import { AttemptLog } from './attempt-log';
import { DeliveryJob, Sent } from './attempt-sender';
import { DeliveryMetrics } from './delivery-metrics';
import { ResourceOrder } from './resource-order';
import { RetryDecision, RetryPlanner } from './retry-planner';
import { WebhookRequestBuilder } from './webhook-request';
import { SendResult } from './webhook-sender';

export interface AttemptOutcome {
  status: DeliveryStatus;
  result: SendResult | null;
  reason: string | null;
}

/**
 * The settle stage: what an attempt leaves behind. It decides the
 * delivery's next state (delivered, blocked, retrying when, or failed for
 * good), records the attempt durably, and lets the next delivery of the
 * same resource go. The caller acks its message only after this resolves.
 */
@Injectable()
export class AttemptSettlement implements OnApplicationShutdown {
  constructor(
    private readonly planner: RetryPlanner,
    private readonly attemptLog: AttemptLog,
    private readonly order: ResourceOrder,
    private readonly requests: WebhookRequestBuilder,
    private readonly metrics: DeliveryMetrics,
    private readonly log: PinoLogger,
  ) {
    log.setContext(AttemptSettlement.name);
  }

  /** Settles what sending came to; `'superseded'` when no attempt was made (another one had settled the delivery). */
  async settle(job: DeliveryJob, sent: Sent): Promise<AttemptOutcome | 'superseded'> {
    if (sent.kind === 'superseded') return 'superseded';
    if (sent.kind === 'refused') {
      const blocked: RetryDecision = { status: 'blocked', nextAttemptAt: null, reason: sent.reason, parked: false };
      await this.attemptLog.write(this.record(job, null, blocked, {}));
      this.order.attemptRecorded(job.deliveryId);
      this.metrics.attempts.inc({ outcome: 'blocked' });
      this.logAttempt(job, null, blocked);
      return { status: 'blocked', result: null, reason: sent.reason };
    }
    const { result, headers } = sent;
    const next: RetryDecision = result.ok
      ? { status: 'delivered', nextAttemptAt: null, reason: null, parked: false }
      : await this.planner.afterFailure({
          deliveryId: job.deliveryId,
          subscriptionId: job.subscription.id,
          attempt: job.attempt,
          retryPolicyMs: job.subscription.retryPolicyMs,
          error: result.error ?? 'failed',
          trace: job.trace,
        });
    await this.attemptLog.write(this.record(job, result, next, this.requests.loggable(job.subscription, headers)));
    this.order.attemptRecorded(job.deliveryId);
    this.metrics.attempts.inc({ outcome: next.status });
    this.metrics.attemptSeconds.observe({ outcome: result.ok ? 'success' : 'failure' }, result.durationMs / 1000);
    this.logAttempt(job, result, next);
    return { status: next.status, result, reason: next.reason };
  }

  /**
   * One line per attempt, at debug: production runs at info, where thousands of attempts a second would be
   * as many lines, and the delivery log already keeps each attempt; .env.development sets LOG_LEVEL=debug.
   * Checked first, so the hot path builds nothing when the level is off.
   */
  private logAttempt(job: DeliveryJob, result: SendResult | null, next: RetryDecision): void {
    if (!this.log.logger.isLevelEnabled('debug')) return;
    const answer = result ? (result.status ?? result.error ?? 'no response') : `refused: ${next.reason ?? ''}`;
    this.log.debug(
      {
        subscriptionId: job.subscription.id,
        deliveryId: job.deliveryId,
        attempt: job.attempt,
        responseStatus: result?.status ?? null,
        error: result ? result.error : next.reason,
        durationMs: result?.durationMs ?? 0,
        status: next.status,
        nextAttemptAt: next.nextAttemptAt,
      },
      `attempt ${job.attempt} of delivery ${job.deliveryId}: ${answer} in ${result?.durationMs ?? 0} ms, ${next.status}`,
    );
  }

  private record(job: DeliveryJob, result: SendResult | null, next: RetryDecision, requestHeaders: Record<string, string>): AttemptRecord {
    return {
      id: randomUUID(),
      deliveryId: job.deliveryId,
      attempt: job.attempt,
      outcome: result?.ok ? 'success' : 'failure',
      startedAt: result?.startedAt ?? new Date(),
      durationMs: result?.durationMs ?? 0,
      requestUrl: job.subscription.url,
      requestHeaders,
      responseStatus: result?.status ?? null,
      responseHeaders: result?.headers ?? null,
      responseBody: result?.body ?? null,
      error: result ? result.error : next.reason,
      status: next.status,
      reason: next.reason,
      nextAttemptAt: next.nextAttemptAt,
      parked: next.parked,
      subscriptionId: job.subscription.id,
      health: result ? (result.ok ? 'success' : 'failure') : null,
    };
  }

  /** Records what is still being written, then the releases it triggers (in that order: the releases follow the records). */
  async onApplicationShutdown(): Promise<void> {
    await this.attemptLog.drain();
    await this.order.drain();
  }
}
