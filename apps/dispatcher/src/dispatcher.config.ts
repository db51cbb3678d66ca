import { DeliveryConfig } from '@hookhub/delivery';
import { EnvInteger } from '@hookhub/platform';

/**
 * Every variable takes one `Env*` decorator from @hookhub/platform, which parses it strictly; the config spec checks that.
 * The delivery tuning (concurrency, parking, auto-disable, ack wait) is declared by DeliveryConfig in @hookhub/delivery.
 */
export class DispatcherConfig extends DeliveryConfig {
  @EnvInteger({ min: 0, max: 65_535 })
  DISPATCHER_PORT: number = 3001;

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

  @EnvInteger({ min: 100, unit: 'ms' })
  RETRY_SCHEDULER_INTERVAL_MS: number = 1_000;
}
