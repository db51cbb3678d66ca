/**
 * The arithmetic of a subscription's rate budget, shared by every dispatcher
 * pod: a GCRA (the "virtual scheduling" form of a token bucket). The budget is
 * one time, `nextSlotAt`: when the next send is due at the steady rate. A send
 * may go `tolerance` earlier than that, which is what lets a quiet
 * subscription send a few at once; each send moves `nextSlotAt` one interval
 * on. A pod leases the next few send times at once (a few hundred ms of them)
 * and sends each delivery at its time; the times of a lease that is never used
 * (its pod died) are simply lost, so nothing has to be given back.
 *
 * With `burst` ≥ `perSecond`, at most `burst` sends fall in any one second
 * and `perSecond` a second over time: the first `burstSize` at once after a
 * quiet spell, then one every `1000 / perSecond` ms.
 */

/** A subscription's limit: `perSecond` over time, at most `burst` in any one second (`burst` ≥ `perSecond`). */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** How far ahead a pod leases send times: what a pod that dies holding a lease can waste of the budget. */
export const LEASE_HORIZON_MS = 250;
/** Most deliveries one lease takes (a high limit's 250 ms can be thousands). */
export const MAX_LEASE = 500;

/** Milliseconds between two sends at the steady rate. */
export function intervalMs(limit: RateLimit): number {
  return 1000 / limit.perSecond;
}

/**
 * Sends that may go at once after a quiet spell: `burst − perSecond`, at least one. A window of one second
 * then holds at most that many plus `perSecond − 1` paced ones: `burst − 1`, or `perSecond` when `burst` is
 * `perSecond` (one below `burst` leaves a send's worth of room for the jitter between pods).
 */
export function burstSize(limit: RateLimit): number {
  return Math.max(1, limit.burst - limit.perSecond);
}

/** The send times a lease may take, and what the budget becomes. */
export interface SlotPlan {
  /** Send times (ms, the budget's clock), earliest first, each at or after `nowMs`. */
  slots: number[];
  /** `nextSlotAtMs` once the first `taken` of `slots` are used (unchanged for none). */
  after(taken: number): number;
  /** When the send after the last of `slots` falls due (ms): a lease then would get it. */
  nextDueMs: number;
}

/**
 * The send times due from `nowMs` up to `horizonMs` later, at most `max` of them, for a budget whose next
 * steady-rate send is due at `nextSlotAtMs`. A budget left unused for a while (`nextSlotAtMs` long past)
 * holds no more than `burstSize` sends: the tolerance caps it.
 */
export function planSlots(limit: RateLimit, nextSlotAtMs: number, nowMs: number, options: { max: number; horizonMs: number }): SlotPlan {
  const interval = intervalMs(limit);
  const tolerance = (burstSize(limit) - 1) * interval;
  const base = Math.max(nextSlotAtMs, nowMs);
  const dueAt = (i: number): number => Math.max(nowMs, base + i * interval - tolerance);
  const slots: number[] = [];
  while (slots.length < options.max && dueAt(slots.length) <= nowMs + options.horizonMs) slots.push(dueAt(slots.length));
  return {
    slots,
    after: (taken) => (taken === 0 ? nextSlotAtMs : base + taken * interval),
    nextDueMs: dueAt(slots.length),
  };
}
