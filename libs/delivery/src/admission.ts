import { Injectable } from '@nestjs/common';
import type { SubscriptionEntity } from '@hookhub/persistence';
import { SubscriptionLoad, SubscriptionSlot } from './subscription-load';

/** What admission decided for one delivery's next attempt. */
export type Admission =
  /** Go: the slot is this attempt's place in its subscription's line. */
  | { kind: 'send'; slot: SubscriptionSlot }
  /** Not from this pod now: ask again after `delayMs` (the retries stream keeps the wait). */
  | { kind: 'wait'; delayMs: number }
  /**
   * Waits in PostgreSQL: held behind an earlier delivery of its resource or parked by the fan-out (the scheduler
   * releases it), or in its subscription's rate line (the line's pacer sends it).
   */
  | { kind: 'parked' }
  /** Its subscription is rate-limited and this attempt holds no lease of the budget: it joins the subscription's rate line. */
  | { kind: 'rate-line' };

/** A delivery as admission sees it: whose it is, and whether the fan-out left it parked. */
export interface AdmissionCandidate {
  subscriptionId: string;
  parked?: boolean;
  /** Its subscription has a rate limit (see `waitsForBudget`). */
  rateLimited?: boolean;
  /** The attempt goes at a send time leased from its subscription's rate budget (the rate line's pacer). */
  leased?: boolean;
}

/**
 * The one place that decides whether a delivery's attempt may go now, wait,
 * or stay parked, from everything that can hold it back: its place in its
 * resource's order (recorded as `parked` by the fan-out, atomically with the
 * delivery), its subscription's rate limit (a rate line in PostgreSQL, which
 * the fan-out also creates deliveries in), the subscription's and the pod's
 * concurrency, and the back-off of a busy (slow or silent) endpoint.
 */
@Injectable()
export class DeliveryAdmission {
  constructor(private readonly load: SubscriptionLoad) {}

  admit(candidate: AdmissionCandidate): Admission {
    if (candidate.parked) return { kind: 'parked' };
    if (candidate.rateLimited && !candidate.leased) return { kind: 'rate-line' };
    // A leased attempt queues here rather than wait elsewhere: its send time is spent (the pacer leases nothing while the endpoint is busy).
    if (!candidate.leased && this.load.isBusy(candidate.subscriptionId)) {
      return { kind: 'wait', delayMs: this.load.busyBackoffMs(candidate.subscriptionId) };
    }
    return { kind: 'send', slot: this.load.join(candidate.subscriptionId) };
  }

  /**
   * Whether an attempt of this subscription must wait for a lease of its rate budget: every attempt of a
   * rate-limited subscription goes through its rate line, first attempts and retries alike, so the line is
   * the one order they leave in. (The retry pipeline learns the subscription only after its first `admit`.)
   */
  waitsForBudget(subscription: Pick<SubscriptionEntity, 'ratePerSecond'>): boolean {
    return (subscription.ratePerSecond ?? null) !== null;
  }

  /** How long an attempt of this subscription should wait before it asks again, when the endpoint is busy here (null: it is not). */
  busyDelayMs(subscriptionId: string): number | null {
    return this.load.isBusy(subscriptionId) ? this.load.busyBackoffMs(subscriptionId) : null;
  }

  /**
   * The fan-out creates the deliveries of these subscriptions parked for the
   * given time, in the same transaction, instead of admitting them: nothing
   * to send or publish for an endpoint already saturated here.
   */
  parkDelays(): Map<string, number> {
    return new Map(this.load.busySubscriptions().map((id) => [id, this.load.busyBackoffMs(id)]));
  }

  /** Whether this pod has enough attempts in line, counting `coming` more (the consumers pause while it does). */
  backlogged(coming = 0): boolean {
    return this.load.backlogged(coming);
  }
}
