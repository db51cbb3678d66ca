import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AttemptRecord, awaitsAttempt, DeliveryOutcomeRepository, DeliveryStatus, RetryScheduleRepository, SubscriptionEntity } from '@hookhub/persistence';
import { AttemptLog } from './attempt-log';
import { EndpointLimiter, Semaphore } from './concurrency';
import { DELIVERY_SETTINGS, DeliverySettings } from './delivery.settings';
import { DeliveryMetrics } from './delivery-metrics';
import { DisableNotifier } from './disable-notifier';
import { ResourceOrder } from './resource-order';
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
  /** The event's version in its resource's log (`X-Webhook-Resource-Version`); null for deliveries made before it was kept. */
  resourceVersion: number | null;
  /** When the delivery's state was last read from PostgreSQL (`Date.now()`): see `RECHECK_AFTER_MS`. */
  admittedAt: number;
}

/**
 * An attempt that has waited longer than this since its delivery's state was
 * read (a frozen or overloaded process) reads it again before sending: its
 * message may have been handed to another pod meanwhile, which delivered it.
 * Far below any ack wait, so a message is never in two pods' hands unchecked.
 */
export const RECHECK_AFTER_MS = 5_000;

/**
 * An attempt does not queue for a slot of its subscription when it would wait
 * longer than this, or longer than `MAX_LONG_LINE_WAIT_MS` behind a line of
 * `LONG_LINE_PER_SLOT` times the subscription's slots: a fast endpoint's burst
 * queues, a slow or hanging endpoint's attempts go to the retries stream
 * instead of holding their events (and the pod's in-flight window).
 */
export const MAX_SLOT_WAIT_MS = 1_000;
export const MAX_LONG_LINE_WAIT_MS = 250;
export const LONG_LINE_PER_SLOT = 4;
/** How long an attempt for a busy subscription waits at least before it asks again… */
const MIN_BUSY_BACKOFF_MS = 1_000;
/** …and at most (plus jitter), however long the endpoint has been silent. */
const MAX_BUSY_BACKOFF_MS = 30_000;

/** The attempt did not happen: its subscription is busy (`deferWhenBusy`) or another attempt already settled it. */
export type NoAttempt = 'deferred' | 'superseded';

export interface AttemptOptions {
  /**
   * When the subscription's slots on this pod are busy (see `isBusy`), do
   * nothing and return `'deferred'`: the caller hands it to the retries stream.
   */
  deferWhenBusy?: boolean;
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
  private readonly perSubscription = new Map<string, EndpointLimiter>();

  constructor(
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    private readonly deliveries: RetryScheduleRepository,
    outcomes: DeliveryOutcomeRepository,
    private readonly requests: WebhookRequestBuilder,
    private readonly permissions: SenderPermissions,
    private readonly planner: RetryPlanner,
    notifier: DisableNotifier,
    private readonly metrics: DeliveryMetrics,
    private readonly order: ResourceOrder,
  ) {
    this.sender = new WebhookSender({
      timeoutMs: settings.timeoutMs,
      allowInsecureTargets: settings.allowInsecureTargets,
      // Per origin. Subscriptions on one host share a pool, so it must never be what limits them:
      // with as many connections as the pod has requests, a hanging endpoint holds only its own slots.
      connections: Math.max(8, settings.maxPerSubscription, settings.maxConcurrentRequests),
    });
    this.attemptLog = new AttemptLog(
      outcomes,
      { maxBatch: 500, lingerMs: 10, retryForMs: 60_000, disableAfter: settings.disableAfterFailures, disableAfterFailingMs: settings.disableAfterFailingMs, maxConcurrent: 2 },
      (disabled) => notifier.notify(disabled),
    );
    this.global = new Semaphore(settings.maxConcurrentRequests);
  }

  /** Attempts admitted and not sending yet (waiting for their subscription's or the pod's slots). */
  private queued = 0;

  /**
   * Enough attempts are queued (with `coming`, those about to be) to keep
   * every connection of the pod busy for a while: the consumers stop taking
   * messages until the line shortens, so another pod with free connections
   * gets them.
   */
  backlogged(coming = 0): boolean {
    return this.queued + coming >= 2 * this.settings.maxConcurrentRequests;
  }

  /** How long an attempt for this subscription would wait for a slot on this pod (0: one is free). */
  expectedWaitFor(subscriptionId: string): number {
    return this.perSubscription.get(subscriptionId)?.expectedWaitMs() ?? 0;
  }

  /** How long this subscription's endpoint has answered nothing while requests to it are open here. */
  silenceOf(subscriptionId: string): number {
    return this.perSubscription.get(subscriptionId)?.silenceMs() ?? 0;
  }

  /**
   * How long an attempt for a busy subscription should wait before it asks
   * again: about a second, or the expected wait or the endpoint's silence so
   * far when longer (capped), so attempts for a hanging endpoint come back
   * less and less often instead of churning.
   */
  busyBackoffMs(subscriptionId: string): number {
    const wait = Math.min(MAX_BUSY_BACKOFF_MS, Math.max(this.expectedWaitFor(subscriptionId), this.silenceOf(subscriptionId)));
    return Math.max(MIN_BUSY_BACKOFF_MS, wait) + Math.floor(Math.random() * MIN_BUSY_BACKOFF_MS);
  }

  /** Whether an attempt for this subscription would be deferred now (see `MAX_SLOT_WAIT_MS`). */
  isBusy(subscriptionId: string): boolean {
    const limiter = this.perSubscription.get(subscriptionId);
    return limiter ? this.tooBusy(limiter) : false;
  }

  private tooBusy(limiter: EndpointLimiter): boolean {
    const wait = limiter.expectedWaitMs();
    return wait > MAX_SLOT_WAIT_MS || (limiter.waiting >= LONG_LINE_PER_SLOT * limiter.limit && wait > MAX_LONG_LINE_WAIT_MS);
  }

  /**
   * Makes the attempt and records it. Returns `'deferred'`, having done
   * nothing, when `deferWhenBusy` is set and the subscription is busy, and
   * `'superseded'` when a re-read found the attempt already made elsewhere.
   */
  async attempt(job: DeliveryJob, options: AttemptOptions = {}): Promise<AttemptOutcome | NoAttempt> {
    const limiter = this.limiterFor(job.subscription.id);
    if (options.deferWhenBusy && this.tooBusy(limiter)) return 'deferred';
    const sent = await this.send(job, limiter);
    if ('superseded' in sent) return 'superseded';
    if ('refusal' in sent) {
      const blocked = { status: 'blocked' as const, nextAttemptAt: null, reason: sent.refusal, parked: false };
      await this.attemptLog.write(this.record(job, null, blocked, job.subscription.url, {}));
      this.order.attemptRecorded(job.deliveryId);
      this.metrics.attempts.inc({ outcome: 'blocked' });
      return { status: 'blocked', result: null, reason: sent.refusal };
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
        });
    await this.attemptLog.write(this.record(job, result, next, job.subscription.url, this.requests.loggable(job.subscription, headers)));
    this.order.attemptRecorded(job.deliveryId);
    this.metrics.attempts.inc({ outcome: next.status });
    this.metrics.attemptSeconds.observe({ outcome: result.ok ? 'success' : 'failure' }, result.durationMs / 1000);
    return { status: next.status, result, reason: next.reason };
  }

  /**
   * Waits for a slot of the subscription (joining its line at once, so the
   * next estimate counts this attempt), checks the creator's rights, signs,
   * waits for a slot of the pod and sends.
   */
  private async send(
    job: DeliveryJob,
    limiter: EndpointLimiter,
  ): Promise<{ result: SendResult; headers: Record<string, string> } | { refusal: string } | { superseded: true }> {
    this.queued++;
    let inLine = true;
    const leaveLine = (): void => {
      if (inLine) this.queued--;
      inLine = false;
    };
    const slot = limiter.acquire();
    try {
      await slot;
      if (Date.now() - job.admittedAt > RECHECK_AFTER_MS && !(await this.stillDue(job))) return { superseded: true };
      const refusal = await this.permissions.refusal(job.subscription);
      if (refusal) return { refusal };
      const body = job.payloads.body(job.subscription.format);
      const headers = this.requests.headers({
        subscription: job.subscription,
        eventType: job.payloads.event.type,
        deliveryId: job.deliveryId,
        attempt: job.attempt,
        resourceVersion: job.resourceVersion,
        body,
      });
      await this.global.acquire();
      leaveLine();
      limiter.started();
      let result: SendResult | undefined;
      try {
        result = await this.sender.send({ url: job.subscription.url, headers, body });
      } finally {
        limiter.finished(result?.durationMs ?? 0);
        this.global.release();
      }
      return { result, headers };
    } finally {
      leaveLine();
      limiter.release();
    }
  }

  /** Whether the delivery still waits for exactly this attempt. */
  private async stillDue(job: DeliveryJob): Promise<boolean> {
    const now = (await this.deliveries.loadRetryContexts([job.deliveryId])).get(job.deliveryId);
    return !!now && awaitsAttempt(now, job.attempt);
  }

  private limiterFor(subscriptionId: string): EndpointLimiter {
    let s = this.perSubscription.get(subscriptionId);
    if (!s) {
      s = new EndpointLimiter(this.settings.maxPerSubscription);
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
    await this.order.drain();
    await this.sender.close();
  }
}
