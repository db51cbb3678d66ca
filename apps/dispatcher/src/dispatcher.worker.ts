import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DispatchPipeline, EventsAudit, RateLine, RetryPipeline, RetryScheduler } from '@hookhub/delivery';
import {
  ConsumerRunner,
  ConsumerWatch,
  ConsumerWatchdog,
  JETSTREAM_SETTINGS,
  JetstreamConnection,
  JetstreamSettings,
  EVENTS_CONSUMER,
  RETRIES_CONSUMER,
  RunningConsumer,
  StreamProvisioner,
} from '@hookhub/jetstream';
import { MetricsRegistry } from '@hookhub/platform';
import { Gauge } from 'prom-client';
import { DispatcherConfig } from './dispatcher.config';

/** How often each pod looks whether a consumer starves (see ConsumerWatchdog). */
const WATCH_EVERY_MS = 10_000;
/** How often a pod offers to audit the events stream (one pod at a time does; see EventsAudit). */
const AUDIT_EVERY_MS = 30_000;

/**
 * This pod's share of the work: the events consumer (fan-out and first
 * attempts), the retries consumer (scheduled attempts), the scheduler of
 * parked retries and the pacing of rate-limited subscriptions' lines. Fresh
 * events and waiting retries use separate consumers so retries piling up
 * for a dead endpoint never block new deliveries. What JetStream can lose
 * when its nodes crash is looked after here too: a watchdog per consumer,
 * and the audit of the events stream (lost retry jobs: the scheduler).
 */
@Injectable()
export class DispatcherWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DispatcherWorker.name);
  private consumers: RunningConsumer[] = [];
  private watches: ConsumerWatch[] = [];

  constructor(
    private readonly config: ConfigService<DispatcherConfig, true>,
    @Inject(JETSTREAM_SETTINGS) private readonly js: JetstreamSettings,
    private readonly provisioner: StreamProvisioner,
    private readonly runner: ConsumerRunner,
    private readonly events: DispatchPipeline,
    private readonly retries: RetryPipeline,
    private readonly scheduler: RetryScheduler,
    private readonly rateLine: RateLine,
    private readonly connection: JetstreamConnection,
    private readonly watchdog: ConsumerWatchdog,
    private readonly audit: EventsAudit,
    registry: MetricsRegistry,
  ) {
    const lag = new Gauge({
      name: 'hookhub_consumer_lag',
      help: 'Messages of a durable consumer not yet delivered (pending) or not yet acked (ack_pending)',
      labelNames: ['consumer', 'kind'],
      registers: [registry],
      collect: async () => {
        for (const [stream, durable] of [
          [this.js.subjects.eventsStream, EVENTS_CONSUMER],
          [this.js.subjects.retriesStream, RETRIES_CONSUMER],
        ]) {
          const info = await this.connection.jsm.consumers.info(stream, durable).catch(() => null);
          if (!info) continue;
          lag.set({ consumer: durable, kind: 'pending' }, info.num_pending);
          lag.set({ consumer: durable, kind: 'ack_pending' }, info.num_ack_pending);
        }
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const subjects = this.js.subjects;
    const ackWaitMs = this.config.get('DISPATCHER_ACK_WAIT_MS', { infer: true });
    const maxInFlight = this.config.get('DISPATCHER_MAX_IN_FLIGHT_EVENTS', { infer: true });
    const maxBatch = this.config.get('DISPATCHER_BATCH_SIZE', { infer: true });
    await this.provisioner.ensureEventsStream();
    await this.provisioner.ensureRetriesStream();
    const pipelines = [
      {
        stream: subjects.eventsStream,
        durable: EVENTS_CONSUMER,
        maxAckPending: this.config.get('DISPATCHER_MAX_ACK_PENDING', { infer: true }),
        pipeline: this.events,
      },
      {
        stream: subjects.retriesStream,
        durable: RETRIES_CONSUMER,
        maxAckPending: this.config.get('DISPATCHER_RETRY_MAX_ACK_PENDING', { infer: true }),
        pipeline: this.retries,
      },
    ];
    for (const { stream, durable, maxAckPending, pipeline } of pipelines) {
      await this.provisioner.ensureDurableConsumer({ stream, durable, ackWaitMs, maxDeliver: -1, maxAckPending });
      this.consumers.push(
        await this.runner.run({
          stream,
          durable,
          maxInFlight,
          maxBatch,
          workingEveryMs: Math.floor(ackWaitMs / 3),
          backlogged: (waiting) => pipeline.backlogged(waiting),
          handleBatch: (batch) => pipeline.handleBatch(batch),
        }),
      );
      this.watches.push(this.watchdog.watch(stream, durable, WATCH_EVERY_MS));
    }
    this.scheduler.start(this.config.get('RETRY_SCHEDULER_INTERVAL_MS', { infer: true }));
    this.rateLine.start();
    this.audit.start(AUDIT_EVERY_MS);
    this.logger.log({ events: subjects.eventsStream, retries: subjects.retriesStream }, 'dispatching');
  }

  /**
   * Before connections close: stop pulling and hand the messages not started yet back to JetStream at
   * once (for the other pods), let in-flight deliveries finish within the grace time. The scheduler
   * stops alongside, so its last round does not hold back the hand-back; so do the rate lines, whose leased
   * deliveries are sent at their times (a quarter of a second ahead at most).
   */
  async beforeApplicationShutdown(): Promise<void> {
    const grace = this.config.get('SHUTDOWN_GRACE_MS', { infer: true });
    for (const watch of this.watches) watch.stop();
    await Promise.all([this.scheduler.stop(), this.rateLine.stop(), this.audit.stop(), ...this.consumers.map((c) => c.stop(grace))]);
  }
}
