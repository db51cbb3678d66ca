import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AttemptRecord, DeliveryRepository, DeliveryStatus, SubscriptionEntity } from '@hookhub/persistence';
import { AttemptLog } from './attempt-log';
import { Semaphore } from './concurrency';
import { DELIVERY_SETTINGS, DeliverySettings } from './delivery.settings';
import { DeliveryMetrics } from './delivery-metrics';
import { DisableNotifier } from './disable-notifier';
import { RetryDecision, RetryPlanner } from './retry-planner';
import { EventPayloads } from './payload';
import { SenderPermissions } from './sender-permissions';
import { WebhookRequestBuilder } from './webhook-request';
import { SendResult, WebhookSender } from './webhook-sender';

export interface DeliveryJob {
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  subscription: SubscriptionEntity;
  payloads: EventPayloads;
}

export interface AttemptOutcome {
  status: DeliveryStatus;
  result: SendResult | null;
  reason: string | null;
}

/**
 * Makes one HTTP attempt of a delivery: checks the creator's rights, signs,
 * sends within the concurrency limits, and records the attempt.
 */
@Injectable()
export class DeliveryExecutor implements OnApplicationShutdown {
  readonly sender: WebhookSender;
  private readonly attemptLog: AttemptLog;
  private readonly global: Semaphore;
  private readonly perSubscription = new Map<string, Semaphore>();

  constructor(
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    deliveries: DeliveryRepository,
    private readonly requests: WebhookRequestBuilder,
    private readonly permissions: SenderPermissions,
    private readonly planner: RetryPlanner,
    notifier: DisableNotifier,
    private readonly metrics: DeliveryMetrics,
  ) {
    this.sender = new WebhookSender({
      timeoutMs: settings.timeoutMs,
      allowInsecureTargets: settings.allowInsecureTargets,
      connections: Math.max(8, settings.maxPerSubscription),
    });
    this.attemptLog = new AttemptLog(
      deliveries,
      { maxBatch: 500, lingerMs: 5, retryForMs: 60_000, disableAfter: settings.disableAfterFailures },
      (disabled) => notifier.notify(disabled),
    );
    this.global = new Semaphore(settings.maxConcurrentRequests);
  }

  /** Whether a request to this subscription could start now without waiting. */
  hasCapacityFor(subscriptionId: string): boolean {
    return this.global.available && (this.perSubscription.get(subscriptionId)?.available ?? true);
  }

  async attempt(job: DeliveryJob): Promise<AttemptOutcome> {
    const refusal = await this.permissions.refusal(job.subscription);
    if (refusal) {
      const blocked = { status: 'blocked' as const, nextAttemptAt: null, reason: refusal, parked: false };
      await this.attemptLog.write(this.record(job, null, blocked, job.subscription.url, {}));
      this.metrics.attempts.inc({ outcome: 'blocked' });
      return { status: 'blocked', result: null, reason: refusal };
    }
    const body = job.payloads.body(job.subscription.format);
    const headers = this.requests.headers({
      subscription: job.subscription,
      eventType: job.payloads.event.type,
      deliveryId: job.deliveryId,
      attempt: job.attempt,
      body,
    });
    const limiter = this.limiterFor(job.subscription.id);
    await limiter.acquire();
    await this.global.acquire();
    let result: SendResult;
    try {
      result = await this.sender.send({ url: job.subscription.url, headers, body });
    } finally {
      this.global.release();
      limiter.release();
    }
    const next: RetryDecision = result.ok
      ? { status: 'delivered', nextAttemptAt: null, reason: null, parked: false }
      : await this.planner.afterFailure({
          deliveryId: job.deliveryId,
          subscriptionId: job.subscription.id,
          attempt: job.attempt,
          retryPolicyMs: job.subscription.retryPolicyMs,
          error: result.error ?? 'failed',
        });
    await this.attemptLog.write(this.record(job, result, next, job.subscription.url, this.requests.loggable(job.subscription, headers)));
    this.metrics.attempts.inc({ outcome: next.status });
    this.metrics.attemptSeconds.observe({ outcome: result.ok ? 'success' : 'failure' }, result.durationMs / 1000);
    return { status: next.status, result, reason: next.reason };
  }

  private limiterFor(subscriptionId: string): Semaphore {
    let s = this.perSubscription.get(subscriptionId);
    if (!s) {
      s = new Semaphore(this.settings.maxPerSubscription);
      this.perSubscription.set(subscriptionId, s);
    }
    return s;
  }

  private record(
    job: DeliveryJob,
    result: SendResult | null,
    next: RetryDecision,
    url: string,
    requestHeaders: Record<string, string>,
  ): AttemptRecord {
    return {
      id: randomUUID(),
      deliveryId: job.deliveryId,
      attempt: job.attempt,
      outcome: result?.ok ? 'success' : 'failure',
      startedAt: result?.startedAt ?? new Date(),
      durationMs: result?.durationMs ?? 0,
      requestUrl: url,
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

  async onApplicationShutdown(): Promise<void> {
    await this.attemptLog.drain();
    await this.sender.close();
  }
}
