import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DispatchPipeline, FailurePolicy } from '@hookhub/delivery';
import { ConsumerRunner, JETSTREAM_SETTINGS, JetstreamSettings, RunningConsumer, StreamProvisioner } from '@hookhub/jetstream';
import { DispatcherConfig } from './dispatcher.config';

export const EVENTS_DURABLE = 'dispatcher';

/** Until the retry scheme lands, a failed first attempt is final. */
const failOnce: FailurePolicy = (_job, result) => ({ status: 'failed', nextAttemptAt: null, reason: result.error ?? 'failed' });

/** Runs the durable consumer of the events stream for this pod. */
@Injectable()
export class DispatcherWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DispatcherWorker.name);
  private running?: RunningConsumer;

  constructor(
    private readonly config: ConfigService<DispatcherConfig, true>,
    @Inject(JETSTREAM_SETTINGS) private readonly js: JetstreamSettings,
    private readonly provisioner: StreamProvisioner,
    private readonly runner: ConsumerRunner,
    private readonly pipeline: DispatchPipeline,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const stream = this.js.subjects.eventsStream;
    await this.provisioner.ensureEventsStream();
    await this.provisioner.ensureDurableConsumer({
      stream,
      durable: EVENTS_DURABLE,
      ackWaitMs: this.config.get('DISPATCHER_ACK_WAIT_MS', { infer: true }),
      maxDeliver: -1,
      maxAckPending: this.config.get('DISPATCHER_MAX_ACK_PENDING', { infer: true }),
    });
    this.running = await this.runner.run({
      stream,
      durable: EVENTS_DURABLE,
      maxInFlight: this.config.get('DISPATCHER_MAX_IN_FLIGHT_EVENTS', { infer: true }),
      maxBatch: this.config.get('DISPATCHER_BATCH_SIZE', { infer: true }),
      handleBatch: (batch) => this.pipeline.handleBatch(batch, failOnce),
    });
    this.logger.log({ stream, durable: EVENTS_DURABLE }, 'dispatching');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.stop(this.config.get('SHUTDOWN_GRACE_MS', { infer: true }));
  }
}
