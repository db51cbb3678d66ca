import { IsInt, Max, Min } from 'class-validator';
import { BaseConfig } from '@hookhub/platform';

export class DispatcherConfig extends BaseConfig {
  @IsInt()
  @Min(0)
  @Max(65_535)
  DISPATCHER_PORT: number = 3001;

  @IsInt()
  @Min(1)
  @Max(10_000)
  DISPATCHER_MAX_CONCURRENT_REQUESTS: number = 256;

  @IsInt()
  @Min(1)
  @Max(10_000)
  DISPATCHER_MAX_PER_SUBSCRIPTION: number = 64;

  /** Events this pod holds unacked at once; keep it near what it can work on (ack_wait starts on arrival). */
  @IsInt()
  @Min(1)
  @Max(100_000)
  DISPATCHER_MAX_IN_FLIGHT_EVENTS: number = 512;

  @IsInt()
  @Min(1)
  @Max(1_000)
  DISPATCHER_BATCH_SIZE: number = 100;

  /** Pending messages the server lets the events consumer have across all pods. */
  @IsInt()
  @Min(1)
  DISPATCHER_MAX_ACK_PENDING: number = 10_000;

  /** Retries waiting in JetStream across all pods; each holds a slot of the retry consumer until due. */
  @IsInt()
  @Min(1)
  DISPATCHER_RETRY_MAX_ACK_PENDING: number = 100_000;

  /** Retry delays up to this wait in JetStream; longer ones are parked in PostgreSQL. */
  @IsInt()
  @Min(0)
  RETRY_PARK_THRESHOLD_MS: number = 60_000;

  @IsInt()
  @Min(100)
  RETRY_SCHEDULER_INTERVAL_MS: number = 1_000;

  /** Consecutive failed attempts after which a subscription is disabled. */
  @IsInt()
  @Min(1)
  DISABLE_AFTER_FAILURES: number = 10;

  /** Redelivery after a crash waits this long; must exceed the webhook timeout with margin. */
  @IsInt()
  @Min(5_000)
  DISPATCHER_ACK_WAIT_MS: number = 60_000;
}
