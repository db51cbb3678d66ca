import { ConfigService } from '@nestjs/config';
import type { BaseConfig } from '@hookhub/platform';

/** Dispatcher tuning read from configuration; defaults suit one pod on two cores. */
export interface DeliverySettings {
  timeoutMs: number;
  allowInsecureTargets: boolean;
  /** Most HTTP requests one pod has open at once. */
  maxConcurrentRequests: number;
  /** Most open requests to one subscription per pod, so one slow endpoint cannot take every socket. */
  maxPerSubscription: number;
  /** Retry delays up to this wait in JetStream (nak with delay); longer ones wait in PostgreSQL. */
  parkThresholdMs: number;
  /** Consecutive failed attempts after which a subscription is disabled… */
  disableAfterFailures: number;
  /** …once its endpoint has also been failing this long, unless the subscription sets its own time. */
  disableAfterFailingMs: number;
}

export const DELIVERY_SETTINGS = Symbol('DELIVERY_SETTINGS');

/** A day: see `DISABLE_AFTER_FAILING_MS` in the README. */
export const DEFAULT_DISABLE_AFTER_FAILING_MS = 24 * 3_600_000;

type DeliveryConfigKeys = BaseConfig & {
  DISPATCHER_MAX_CONCURRENT_REQUESTS?: number;
  DISPATCHER_MAX_PER_SUBSCRIPTION?: number;
  RETRY_PARK_THRESHOLD_MS?: number;
  DISABLE_AFTER_FAILURES?: number;
  DISABLE_AFTER_FAILING_MS?: number;
};

export function deliverySettings(config: ConfigService<DeliveryConfigKeys, true>): DeliverySettings {
  return {
    timeoutMs: config.get('WEBHOOK_TIMEOUT_MS', { infer: true }),
    allowInsecureTargets: config.get('ALLOW_INSECURE_WEBHOOK_TARGETS', { infer: true }),
    maxConcurrentRequests: config.get('DISPATCHER_MAX_CONCURRENT_REQUESTS', { infer: true }) ?? 256,
    maxPerSubscription: config.get('DISPATCHER_MAX_PER_SUBSCRIPTION', { infer: true }) ?? 64,
    parkThresholdMs: config.get('RETRY_PARK_THRESHOLD_MS', { infer: true }) ?? 60_000,
    disableAfterFailures: config.get('DISABLE_AFTER_FAILURES', { infer: true }) ?? 10,
    disableAfterFailingMs: config.get('DISABLE_AFTER_FAILING_MS', { infer: true }) ?? DEFAULT_DISABLE_AFTER_FAILING_MS,
  };
}
