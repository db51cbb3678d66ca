import { BaseConfig, EnvInteger } from '@hookhub/platform';

/** Every variable takes one `Env*` decorator from @hookhub/platform, which parses it strictly; the config spec checks that. */
export class DispatcherConfig extends BaseConfig {
  @EnvInteger({ min: 0, max: 65_535 })
  DISPATCHER_PORT: number = 3001;

  @EnvInteger({ min: 1, max: 10_000 })
  DISPATCHER_MAX_CONCURRENT_REQUESTS: number = 256;

  @EnvInteger({ min: 1, max: 10_000 })
  DISPATCHER_MAX_PER_SUBSCRIPTION: number = 64;

  /** Events this pod holds unacked at once; keep it near what it can work on (ack_wait starts on arrival). */
  @EnvInteger({ min: 1, max: 100_000 })
  DISPATCHER_MAX_IN_FLIGHT_EVENTS: number = 512;

  @EnvInteger({ min: 1, max: 1_000 })
  DISPATCHER_BATCH_SIZE: number = 100;

  /** Pending messages the server lets the events consumer have across all pods. */
  @EnvInteger({ min: 1 })
  DISPATCHER_MAX_ACK_PENDING: number = 10_000;

  /** Retries waiting in JetStream across all pods; each holds a slot of the retry consumer until due. */
  @EnvInteger({ min: 1 })
  DISPATCHER_RETRY_MAX_ACK_PENDING: number = 100_000;

  /** Retry delays up to this wait in JetStream; longer ones are parked in PostgreSQL. */
  @EnvInteger({ min: 0, unit: 'ms' })
  RETRY_PARK_THRESHOLD_MS: number = 60_000;

  @EnvInteger({ min: 100, unit: 'ms' })
  RETRY_SCHEDULER_INTERVAL_MS: number = 1_000;

  /** Consecutive failed attempts after which a subscription is disabled. */
  @EnvInteger({ min: 1 })
  DISABLE_AFTER_FAILURES: number = 10;

  /**
   * …and only once its endpoint has also been failing this long (a subscription may set its own).
   * A day: a burst into a deploy or a night's outage never needs an operator; see the README.
   */
  @EnvInteger({ min: 0, max: 7 * 24 * 3_600_000, unit: 'ms' })
  DISABLE_AFTER_FAILING_MS: number = 24 * 3_600_000;

  /** Redelivery after a crash waits this long; must exceed the webhook timeout with margin. */
  @EnvInteger({ min: 5_000, unit: 'ms' })
  DISPATCHER_ACK_WAIT_MS: number = 60_000;
}
