import { Inject, Injectable } from '@nestjs/common';
import { EndpointLimiter, Semaphore } from './concurrency';
import { DELIVERY_SETTINGS, DeliverySettings } from './delivery.settings';

/**
 * A subscription is busy on this pod when a new attempt would wait longer
 * than this for one of its slots, or longer than `MAX_LONG_LINE_WAIT_MS`
 * behind a line of `LONG_LINE_PER_SLOT` times its slots: a fast endpoint's
 * burst queues, a slow or hanging endpoint's attempts wait elsewhere instead
 * of holding their events (and the pod's in-flight window).
 */
export const MAX_SLOT_WAIT_MS = 1_000;
export const MAX_LONG_LINE_WAIT_MS = 250;
export const LONG_LINE_PER_SLOT = 4;
/** How long an attempt for a busy subscription waits at least before it asks again… */
const MIN_BUSY_BACKOFF_MS = 1_000;
/** …and at most (plus jitter), however long the endpoint has been silent. */
const MAX_BUSY_BACKOFF_MS = 30_000;

/**
 * A place in a subscription's line on this pod, taken at admission. Its
 * owner waits for `ready`, sends inside `onTheWire` (which also takes one of
 * the pod's connections) and always calls `release`.
 */
export class SubscriptionSlot {
  private inLine = true;
  private released = false;

  constructor(
    private readonly load: SubscriptionLoad,
    private readonly limiter: EndpointLimiter,
    /** Resolves once the slot is this attempt's. */
    readonly ready: Promise<void>,
  ) {}

  /** Runs the request while holding one of the pod's connections, timing it for the subscription's estimates. */
  async onTheWire<T extends { durationMs: number }>(request: () => Promise<T>): Promise<T> {
    await this.load.connections.acquire();
    this.leaveLine();
    this.limiter.started();
    let result: T | undefined;
    try {
      result = await request();
      return result;
    } finally {
      this.limiter.finished(result?.durationMs ?? 0);
      this.load.connections.release();
    }
  }

  /** Gives the slot back (or, not granted yet, gives it back as soon as it is). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.leaveLine();
    void this.ready.then(() => this.limiter.release());
  }

  private leaveLine(): void {
    if (this.inLine) this.load.queued--;
    this.inLine = false;
  }
}

/**
 * What this pod is sending, per subscription and in all: the slots of each
 * subscription and how fast they turn over, the pod's connections, and the
 * attempts in line. From those come the busy verdicts and the back-off that
 * admission uses; nothing here decides.
 */
@Injectable()
export class SubscriptionLoad {
  /** The pod's open requests, shared by every subscription. */
  readonly connections: Semaphore;
  /** Attempts admitted and not sending yet (waiting for their subscription's or the pod's slots). */
  queued = 0;
  private readonly perSubscription = new Map<string, EndpointLimiter>();

  constructor(@Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings) {
    this.connections = new Semaphore(settings.maxConcurrentRequests);
  }

  /** Joins the subscription's line at once, so the next estimate counts this attempt. */
  join(subscriptionId: string): SubscriptionSlot {
    const limiter = this.limiterFor(subscriptionId);
    this.queued++;
    return new SubscriptionSlot(this, limiter, limiter.acquire());
  }

  /** Whether a new attempt for this subscription would wait too long for a slot here (see `MAX_SLOT_WAIT_MS`). */
  isBusy(subscriptionId: string): boolean {
    const limiter = this.perSubscription.get(subscriptionId);
    if (!limiter) return false;
    const wait = limiter.expectedWaitMs();
    return wait > MAX_SLOT_WAIT_MS || (limiter.waiting >= LONG_LINE_PER_SLOT * limiter.limit && wait > MAX_LONG_LINE_WAIT_MS);
  }

  /** Every subscription busy now: the ids of those with a limiter, which are few (each has attempts here). */
  busySubscriptions(): string[] {
    return [...this.perSubscription.keys()].filter((id) => this.isBusy(id));
  }

  /**
   * How long an attempt for a busy subscription should wait before it asks
   * again: about a second, or the expected wait or the endpoint's silence so
   * far when longer (capped), so attempts for a hanging endpoint come back
   * less and less often instead of churning.
   */
  busyBackoffMs(subscriptionId: string): number {
    const limiter = this.perSubscription.get(subscriptionId);
    const wait = Math.min(MAX_BUSY_BACKOFF_MS, Math.max(limiter?.expectedWaitMs() ?? 0, limiter?.silenceMs() ?? 0));
    return Math.max(MIN_BUSY_BACKOFF_MS, wait) + Math.floor(Math.random() * MIN_BUSY_BACKOFF_MS);
  }

  /**
   * Enough attempts are in line (with `coming`, those about to be) to keep
   * every connection of the pod busy for a while: the consumers stop taking
   * messages until the line shortens, so another pod with free connections
   * gets them.
   */
  backlogged(coming = 0): boolean {
    return this.queued + coming >= 2 * this.settings.maxConcurrentRequests;
  }

  private limiterFor(subscriptionId: string): EndpointLimiter {
    let limiter = this.perSubscription.get(subscriptionId);
    if (!limiter) {
      limiter = new EndpointLimiter(this.settings.maxPerSubscription);
      this.perSubscription.set(subscriptionId, limiter);
    }
    return limiter;
  }
}
