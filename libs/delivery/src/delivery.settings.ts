import { ConfigService } from '@nestjs/config';
import { BaseConfig, EnvInteger } from '@hookhub/platform';

/**
 * The dispatcher's delivery tuning, declared once with its defaults (suited to
 * one pod on two cores). The dispatcher's configuration extends this class;
 * the settings below read it without fallbacks of their own.
 */
export class DeliveryConfig extends BaseConfig {
  /** Most HTTP requests one pod has open at once. */
  @EnvInteger({ min: 1, max: 10_000 })
  DISPATCHER_MAX_CONCURRENT_REQUESTS: number = 256;

  /** Most open requests to one subscription per pod, so one slow endpoint cannot take every socket. */
  @EnvInteger({ min: 1, max: 10_000 })
  DISPATCHER_MAX_PER_SUBSCRIPTION: number = 64;

  /**
   * Redelivery after a crash waits this long; must exceed the webhook timeout with margin. A delivery a pod
   * took from a rate line comes back after it too, should the pod die before recording its attempt.
   */
  @EnvInteger({ min: 5_000, unit: 'ms' })
  DISPATCHER_ACK_WAIT_MS: number = 60_000;

  /** Retry delays up to this wait in JetStream; longer ones are parked in PostgreSQL. */
  @EnvInteger({ min: 0, unit: 'ms' })
  RETRY_PARK_THRESHOLD_MS: number = 60_000;

  /**
   * An attempt waiting on the retries stream this long past its due time has its job looked for (see
   * OverdueSweep); a lost one is enqueued again. Well above the ack wait, so jobs in work are never suspected.
   */
  @EnvInteger({ min: 10_000, unit: 'ms' })
  RETRY_OVERDUE_AFTER_MS: number = 300_000;

  /** Consecutive failed attempts after which a subscription is disabled. */
  @EnvInteger({ min: 1 })
  DISABLE_AFTER_FAILURES: number = 10;

  /**
   * …and only once its endpoint has also been failing this long (a subscription may set its own).
   * A day: a burst into a deploy or a night's outage never needs an operator; see the README.
   */
  @EnvInteger({ min: 0, max: 7 * 24 * 3_600_000, unit: 'ms' })
  DISABLE_AFTER_FAILING_MS: number = 24 * 3_600_000;
}

/** What every sender of requests to endpoints needs (deliveries, verification, test pings). */
export interface WebhookClientSettings {
  timeoutMs: number;
  allowInsecureTargets: boolean;
}

export const WEBHOOK_CLIENT_SETTINGS = Symbol('WEBHOOK_CLIENT_SETTINGS');

export function webhookClientSettings(config: ConfigService<BaseConfig, true>): WebhookClientSettings {
  return {
    timeoutMs: config.get('WEBHOOK_TIMEOUT_MS', { infer: true }),
    allowInsecureTargets: config.get('ALLOW_INSECURE_WEBHOOK_TARGETS', { infer: true }),
  };
}

/** The dispatcher's settings (see DeliveryConfig for what each means). */
export interface DeliverySettings extends WebhookClientSettings {
  maxConcurrentRequests: number;
  maxPerSubscription: number;
  parkThresholdMs: number;
  overdueAfterMs: number;
  ackWaitMs: number;
  disableAfterFailures: number;
  disableAfterFailingMs: number;
}

export const DELIVERY_SETTINGS = Symbol('DELIVERY_SETTINGS');

export function deliverySettings(config: ConfigService<DeliveryConfig, true>): DeliverySettings {
  return {
    ...webhookClientSettings(config),
    maxConcurrentRequests: config.get('DISPATCHER_MAX_CONCURRENT_REQUESTS', { infer: true }),
    maxPerSubscription: config.get('DISPATCHER_MAX_PER_SUBSCRIPTION', { infer: true }),
    parkThresholdMs: config.get('RETRY_PARK_THRESHOLD_MS', { infer: true }),
    overdueAfterMs: config.get('RETRY_OVERDUE_AFTER_MS', { infer: true }),
    ackWaitMs: config.get('DISPATCHER_ACK_WAIT_MS', { infer: true }),
    disableAfterFailures: config.get('DISABLE_AFTER_FAILURES', { infer: true }),
    disableAfterFailingMs: config.get('DISABLE_AFTER_FAILING_MS', { infer: true }),
  };
}
