import { Injectable } from '@nestjs/common';
import { SubscriptionLoad, SubscriptionSlot } from './subscription-load';

/** What admission decided for one delivery's next attempt. */
export type Admission =
  /** Go: the slot is this attempt's place in its subscription's line. */
  | { kind: 'send'; slot: SubscriptionSlot }
  /** Not from this pod now: ask again after `delayMs` (the retries stream keeps the wait). */
  | { kind: 'wait'; delayMs: number }
  /** Waits in PostgreSQL: held behind an earlier delivery of its resource, or parked by the fan-out; the scheduler releases it. */
  | { kind: 'parked' };

/** A delivery as admission sees it: whose it is, and whether the fan-out left it parked. */
export interface AdmissionCandidate {
  subscriptionId: string;
  parked?: boolean;
}

/**
 * The one place that decides whether a delivery's attempt may go now, wait,
 * or stay parked, from everything that can hold it back: its place in its
 * resource's order (recorded as `parked` by the fan-out, atomically with the
 * delivery), the subscription's and the pod's concurrency, and the back-off
 * of a busy (slow or silent) endpoint.
 */
@Injectable()
export class DeliveryAdmission {
  constructor(private readonly load: SubscriptionLoad) {}

  admit(candidate: AdmissionCandidate): Admission {
    if (candidate.parked) return { kind: 'parked' };
    if (this.load.isBusy(candidate.subscriptionId)) return { kind: 'wait', delayMs: this.load.busyBackoffMs(candidate.subscriptionId) };
    return { kind: 'send', slot: this.load.join(candidate.subscriptionId) };
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
