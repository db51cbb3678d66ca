import { Inject, Injectable, Logger } from '@nestjs/common';
import { RetryQueue } from '@hookhub/jetstream';
import { QueuedAttempt, RetryScheduleRepository } from '@hookhub/persistence';
import { DeliveryMetrics } from './delivery-metrics';
import { DELIVERY_SETTINGS, DeliverySettings } from './delivery.settings';

/** Deliveries looked at per pass: a bounded number of JetStream lookups, whatever the backlog. */
const PER_PASS = 200;
/** Lookups in flight at once. */
const LOOKUPS_AT_ONCE = 16;

/**
 * Finds attempts whose job is no longer on the retries stream and enqueues
 * them again. JetStream can lose what it acknowledged when its nodes crash
 * and rejoin under load (soak run 3 in docs/durability.md: 100 retries whose
 * jobs were gone, and jobs left stored below the consumer's ack floor, which
 * it never hands out). The delivery log in PostgreSQL says which attempts
 * are owed: one due long ago (`RETRY_OVERDUE_AFTER_MS`) whose delivery's newest job
 * is missing, or is an orphan below the ack floor, gets a fresh job. A job
 * that is there (a saturated subscription's, nak'd until it has room) is left
 * alone, so the sweep adds no attempts of its own.
 */
@Injectable()
export class OverdueSweep {
  private readonly logger = new Logger(OverdueSweep.name);

  constructor(
    private readonly deliveries: RetryScheduleRepository,
    private readonly queue: RetryQueue,
    private readonly metrics: DeliveryMetrics,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
  ) {}

  /** How often a pod runs a pass: often enough that a lost job waits little longer than the overdue time. */
  get everyMs(): number {
    return Math.min(30_000, this.settings.overdueAfterMs / 4);
  }

  /** One pass; returns how many attempts were enqueued again. */
  async run(): Promise<number> {
    let orphaned = 0;
    const { lost } = await this.deliveries.sweepOverdue(this.settings.overdueAfterMs, PER_PASS, async (queued) => {
      const floor = await this.queue.ackFloor();
      const missing: string[] = [];
      for (let i = 0; i < queued.length; i += LOOKUPS_AT_ONCE) {
        const found = await Promise.all(queued.slice(i, i + LOOKUPS_AT_ONCE).map((q) => this.jobState(q, floor)));
        found.forEach((state, k) => {
          if (state === 'waiting') return;
          if (state === 'orphaned') orphaned++;
          missing.push(queued[i + k].deliveryId);
        });
      }
      return missing;
    });
    if (lost > 0) {
      this.metrics.jobsRecovered.inc({ cause: 'orphaned' }, orphaned);
      this.metrics.jobsRecovered.inc({ cause: 'missing' }, lost - orphaned);
      this.logger.warn({ missing: lost - orphaned, orphaned }, 'attempts whose retry job was gone are enqueued again');
    }
    return lost;
  }

  /** Whether the attempt's job waits on the stream; an orphan is removed (its attempt gets a fresh job). */
  private async jobState(q: QueuedAttempt, ackFloor: number): Promise<'waiting' | 'missing' | 'orphaned'> {
    const stored = await this.queue.lastJob(q.subscriptionId, q.deliveryId);
    if (!stored) return 'missing';
    if (stored.seq <= ackFloor) {
      await this.queue.discard(stored.seq);
      return 'orphaned';
    }
    // An older attempt's job still in work (it will be dropped): the one this attempt needs is missing.
    return stored.job.attempt >= q.attempt ? 'waiting' : 'missing';
  }
}
