import { Injectable, Logger } from '@nestjs/common';
import { ResourceOrderRepository } from '@hookhub/persistence';
import { RetryScheduler } from './retry-scheduler';

/** Attempts recorded within this window release their successors in one statement. */
const RELEASE_LINGER_MS = 5;

/**
 * Keeps the deliveries of one resource to one subscription in event-log
 * order across every pod. The fan-out creates a delivery *held* while the
 * previous one of its resource is in flight (see ResourceOrderRepository);
 * this service ends the wait: after each recorded attempt (the next delivery
 * of that resource may go) and right after a fan-out commits (the previous
 * one may have finished before the held one was visible). A released
 * delivery is a parked one due now, so the scheduler enqueues it at once
 * and it survives a crash of this pod.
 */
@Injectable()
export class ResourceOrder {
  private readonly logger = new Logger(ResourceOrder.name);
  private recorded: string[] = [];
  private timer?: NodeJS.Timeout;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly repo: ResourceOrderRepository,
    private readonly scheduler: RetryScheduler,
  ) {}

  /** After the fan-out's commit: releases the held deliveries it created whose wait is already over. */
  async recheck(heldIds: string[]): Promise<void> {
    await this.track(this.repo.releaseIfUnblocked(heldIds));
  }

  /** An attempt of this delivery is recorded: the next delivery of its resource may be due. Never throws. */
  attemptRecorded(deliveryId: string): void {
    this.recorded.push(deliveryId);
    this.timer ??= setTimeout(() => this.flush(), RELEASE_LINGER_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const ids = this.recorded;
    this.recorded = [];
    // A failure here only delays the successors until the scheduler's sweep finds them.
    void this.track(this.repo.releaseSuccessorsOf(ids)).catch((err: unknown) =>
      this.logger.warn({ err: (err as Error).message }, 'releasing held deliveries failed; the sweep will release them'),
    );
  }

  private async track(release: Promise<number>): Promise<void> {
    const done = release.then((n) => {
      if (n > 0) this.scheduler.poke();
    });
    this.inFlight.add(done);
    try {
      await done;
    } finally {
      this.inFlight.delete(done);
    }
  }

  /** Waits for releases under way (shutdown). */
  async drain(): Promise<void> {
    clearTimeout(this.timer);
    if (this.recorded.length > 0) this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
}
