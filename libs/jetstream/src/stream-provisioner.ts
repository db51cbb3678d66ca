import { Inject, Injectable, Logger } from '@nestjs/common';
import { AckPolicy, ConsumerConfig, DeliverPolicy, DiscardPolicy, nanos, RetentionPolicy, StorageType, StreamConfig } from 'nats';
import { JETSTREAM_SETTINGS, JetstreamSettings } from './jetstream.config';
import { JetstreamConnection } from './jetstream-connection';

export interface DurableConsumerSpec {
  stream: string;
  durable: string;
  filterSubject?: string;
  ackWaitMs: number;
  /** -1: never give up on a message; the app decides when an attempt is final. */
  maxDeliver: number;
  maxAckPending: number;
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && /not found/i.test(err.message);
}

/**
 * Creates streams and durable consumers idempotently at start-up: every pod
 * runs it, the first creates, the others update the fields that may change.
 */
@Injectable()
export class StreamProvisioner {
  private readonly logger = new Logger(StreamProvisioner.name);

  constructor(
    private readonly connection: JetstreamConnection,
    @Inject(JETSTREAM_SETTINGS) private readonly settings: JetstreamSettings,
  ) {}

  /** The stream of domain events: kept for `max_age` so new consumers and replays can read it. */
  async ensureEventsStream(): Promise<void> {
    const subjects = this.settings.subjects;
    await this.ensureStream({ ...this.durableDefaults(), name: subjects.eventsStream, subjects: [subjects.allEvents], retention: RetentionPolicy.Limits });
  }

  /**
   * The work queue of scheduled delivery attempts. Acked jobs are removed;
   * a job waiting for its delay is a nak'd message on the retry consumer.
   */
  async ensureRetriesStream(): Promise<void> {
    const subjects = this.settings.subjects;
    await this.ensureStream({ ...this.durableDefaults(), name: subjects.retriesStream, subjects: [subjects.allRetries], retention: RetentionPolicy.Workqueue });
  }

  /** File storage, configured replicas, retention age and de-duplication window: every stream of the hub. */
  private durableDefaults(): Partial<StreamConfig> {
    return {
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(this.settings.maxAgeMs),
      duplicate_window: nanos(this.settings.duplicateWindowMs),
      num_replicas: this.settings.replicas,
    };
  }

  async ensureStream(config: Partial<StreamConfig> & { name: string }): Promise<void> {
    const jsm = this.connection.jsm;
    try {
      const info = await jsm.streams.info(config.name);
      const { retention, storage, ...mutable } = config;
      void retention;
      void storage;
      await jsm.streams.update(config.name, { ...info.config, ...mutable });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.streams.add(config);
      this.logger.log({ stream: config.name }, 'stream created');
    }
  }

  async ensureDurableConsumer(spec: DurableConsumerSpec): Promise<void> {
    const config: Partial<ConsumerConfig> = {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(spec.ackWaitMs),
      max_deliver: spec.maxDeliver,
      max_ack_pending: spec.maxAckPending,
      ...(spec.filterSubject ? { filter_subject: spec.filterSubject } : {}),
    };
    const jsm = this.connection.jsm;
    try {
      await jsm.consumers.info(spec.stream, spec.durable);
      await jsm.consumers.update(spec.stream, spec.durable, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        max_ack_pending: config.max_ack_pending,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.consumers.add(spec.stream, config);
      this.logger.log({ stream: spec.stream, durable: spec.durable }, 'durable consumer created');
    }
  }
}
